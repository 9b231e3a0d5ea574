"""Generator family of a manifest's free-text generator field (rules in families.toml)."""

import functools
import os
import re
import tomllib

FAMILIES_FILE = os.path.join(os.path.dirname(__file__), "families.toml")


@functools.lru_cache(maxsize=None)
def load_rules(path: str = FAMILIES_FILE) -> tuple:
    """((family, compiled regex), ...) in file order."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    rules = []
    for i, rule in enumerate(doc.get("family", [])):
        if not rule.get("name") or not rule.get("match"):
            raise ValueError(f"{path}: family rule {i + 1} needs a name and a match list")
        rules += [(rule["name"], re.compile(pattern, re.IGNORECASE)) for pattern in rule["match"]]
    return tuple(rules)


def family_of(generator: str | None, rules=None) -> str | None:
    """The first matching rule's family, else None."""
    if not generator:
        return None
    for name, pattern in rules or load_rules():
        if pattern.search(generator):
            return name
    return None
