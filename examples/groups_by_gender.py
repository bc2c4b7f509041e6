"""Do the classes mean the same for men and women? Multiple-group LCA.

The 2000 American National Election Study (shipped with lca): twelve items
rating Al Gore and George W. Bush. With three classes, we test in turn

1. whether the class sizes differ between men and women (homogeneous
   measurement against complete homogeneity);
2. which items measure the classes differently in the two groups (each item
   freed alone against homogeneous measurement);
3. with the item that differs most freed, whether any other item, or the
   fully heterogeneous model, still differs (the stepwise search).

Run: python examples/groups_by_gender.py
"""

import lca

df = lca.datasets.load_election()
items = list(df.columns[:12])
data = df.loc[df["GENDER"].notna(), [*items, "GENDER"]]
data["GENDER"] = data["GENDER"].map({1: "men", 2: "women"})

columns = ["loglik", "n_parameters", "bic", "tested_against", "lr", "lr_df", "lr_p"]
first = lca.compare_groups(data, "GENDER", 3, bayes_constant=0, random_state=0)
print(first.table[columns].round(4).to_string(), "\n")

one_free = [f"free: {item}" for item in items]
worst = first.table.loc[one_free, "lr"].idxmax().removeprefix("free: ")
print(f"largest difference: {worst}\n")

second = lca.compare_groups(data, "GENDER", 3, free=[worst], bayes_constant=0, random_state=0)
print(second.table[columns].round(4).to_string(), "\n")

model = second.models[f"free: {worst}"]
print("class sizes by gender:\n", model.class_sizes_.round(3), "\n")
print(f"{worst} by class and gender:\n", model.conditional_probs_[worst].round(3))
labels = model.predict(data, "GENDER")
print("\nrespondents per class:\n", labels.value_counts().sort_index())

# BIC weighs the extra parameters of every freed item against the sample
# size; the likelihood-ratio tests above are many (one per item), so read
# small p-values with a multiple-testing threshold in mind.
print("\nlowest BIC in the first table:", first.table["bic"].idxmin())
