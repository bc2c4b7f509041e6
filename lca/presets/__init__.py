"""The two published typologies of the reference study, ready to reuse.

>>> import lca
>>> lca.presets.names()
['separation-types', 'service-use']
>>> p = lca.presets.get("separation-types")
>>> p.n_classes, p.class_labels[0]
(5, 'Long-term, bitter')

Source: the evaluation of the Child Maintenance Options service (NatCen for
the Child Maintenance and Enforcement Commission; 2,767 parents; Latent GOLD
4.0), Appendix B.3.2, Tables B.8 to B.11. The published tables ship as
package data; :class:`Preset` documents how they are turned into a model.
"""

from __future__ import annotations

from ._preset import MATCH_THRESHOLD, NO_MATCH, Preset, published_probabilities

_REGISTRY = {
    "separation-types": dict(
        name="separation-types",
        title="Separation types (Table B.9)",
        profile_file="separation_types.csv",
        fit_file="separation_types_fit.csv",
        fit_title="Separation types: model fit (Table B.8)",
        class_labels=(
            "Long-term, bitter",
            "Medium-term, contact",
            "Recent, friendly, contact",
            "Recent, mixed, contact",
            "Never in a relationship",
        ),
        class_sizes=(0.41, 0.21, 0.16, 0.18, 0.04),
        n_respondents=2767,
        ordinal=("time_since_separation", "ex_partner_contact", "relationship_length"),
        notes=(
            "Table B.9's 'total' column for time_since_separation repeats cluster 1; the "
            "category '2 years - 3 years' is missing from the report (answers in it are "
            "unknown to the preset: recode them, or pass unknown='missing' to fit() or to "
            "reference_model().predict()); without it the model has one parameter fewer "
            "than Table B.8 (101, 124, 147 for 4-6 classes against its 102, 125, 148, the "
            "lost category's ordinal intercept), with it, as fit(categories=...) allows, the "
            "same. The published fit "
            "table implies 23 parameters per added class, i.e. three ordinal indicators whose "
            "categories number 16: the preset takes the three with a natural order "
            "(time since separation, ex-partner contact, relationship length)."
        ),
    ),
    "service-use": dict(
        name="service-use",
        title="Service use groups (Table B.11)",
        profile_file="service_use.csv",
        fit_file="service_use_fit.csv",
        fit_title="Service use groups: model fit (Table B.10)",
        class_labels=(
            "Moderate level of in-depth, personalised contact",
            "High level of in-depth, personalised contact",
            "Low to moderate level of personalised contact",
            "Brief, less personalised contact",
        ),
        class_sizes=(0.36, 0.37, 0.14, 0.13),
        n_respondents=2420,
        ordinal=(),
        notes=(
            "Sizes are those the table's Total column implies (least squares of "
            "Total = sum_k P_k P(c|k) over its 36 rows: 36.2, 36.9, 13.6 and 13.3%, which "
            "reproduce every total to 0.2 points on average, the table's rounding). The "
            "report's text gives 37, 27, 18 and 18% (its group numbers differ from the "
            "table's columns: its Group 1, 27%, has the profile of column cluster_2), which "
            "miss the totals by 3.3 points on average and up to 6.5, in any order by 2.3 or "
            "more. Table B.10 implies about 2,420 respondents (BIC - AIC = Npar (ln N - 2)): "
            "the 'moderate to high use' group, not all 2,767. 'Sent leaflets "
            "but did read them' is read as 'did not read them'. Table B.10 implies 63, 82 and "
            "101 parameters for 4, 5 and 6 clusters (19 per class, intercept -13), which no "
            "latent class model of these 14 indicators has (all nominal: 91, 114, 137): the "
            "preset fits all 14 as nominal."
        ),
    ),
}


def names() -> list[str]:
    """Names of the available presets."""
    return sorted(_REGISTRY)


def get(name: str) -> Preset:
    """The preset called ``name`` (see :func:`names`)."""
    try:
        spec = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no preset {name!r}; available: {names()}") from None
    return Preset(**spec)


__all__ = ["MATCH_THRESHOLD", "NO_MATCH", "Preset", "get", "names", "published_probabilities"]
