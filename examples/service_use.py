"""The reference study's workflow for its four service-use groups, on simulated respondents.

The same steps as ``separation_types.py`` (compare 2-10 classes beside Table
B.10, choose four, profile beside Table B.11, assign, cross-tabulate).
"""

from separation_types import walkthrough

if __name__ == "__main__":
    walkthrough("service-use")
