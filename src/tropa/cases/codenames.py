"""Human-pronounceable case codenames like "Birch-42": said aloud on a call, they name no one."""

from __future__ import annotations

import secrets

WORDS = (
    "Alder",
    "Aspen",
    "Birch",
    "Cedar",
    "Elm",
    "Fir",
    "Hazel",
    "Juniper",
    "Larch",
    "Linden",
    "Maple",
    "Oak",
    "Pine",
    "Rowan",
    "Spruce",
    "Willow",
    "Yew",
    "Heather",
    "Clover",
    "Fern",
    "Moss",
    "Reed",
    "Sage",
    "Thistle",
    "Amber",
    "Flint",
    "Granite",
    "Quartz",
    "River",
    "Brook",
    "Harbor",
    "Meadow",
    "Ridge",
    "Valley",
    "Dune",
    "Glacier",
    "Comet",
    "Orbit",
    "Aurora",
    "Delta",
)


def codename_generate(*, taken: set[str] | None = None, choice=secrets.choice) -> str:  # noqa: ANN001
    taken = taken or set()
    for digits in (2, 3, 4, 5):
        for _ in range(50):
            name = f"{choice(WORDS)}-{choice(range(10 ** (digits - 1), 10**digits))}"
            if name not in taken:
                return name
    raise RuntimeError("no free codename")
