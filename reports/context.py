"""What a report needs to know about its survey wave: the items it charts and the values of each dimension."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: A dimension value as the tally stores it: a cluster or wave id, or a profile code.
Key = int | str


@dataclass(frozen=True)
class Option:
    """One value of a dimension (or one item or answer), in its three forms."""

    #: What URLs and the JSON API use: a slug or a code. Never a database id.
    value: str
    #: What the tally table stores.
    key: Key
    #: What people read.
    label: str


@dataclass(frozen=True)
class Survey:
    """A survey wave with its questionnaire's report items and every dimension's possible values, in order."""

    wave_id: int
    slug: str
    title: str
    technologies: tuple[Option, ...]
    adoption_scale: tuple[Option, ...]
    challenges: tuple[Option, ...]
    challenge_scale: tuple[Option, ...]
    #: Per dimension (cluster, size, type, country, ecosystem, wave): every value, in display order. Clusters
    #: are all clusters here; what a user may see is decided per request (see `visible` in `results`).
    options: Mapping[str, tuple[Option, ...]] = field(default_factory=dict)

    def option(self, dimension: str, key: Key) -> Option:
        for option in self.options.get(dimension, ()):
            if option.key == key:
                return option
        # A value no longer offered (e.g. a code from an older questionnaire version) still gets shown as itself.
        return Option(value=str(key), key=key, label=str(key))

    def order(self, dimension: str) -> dict[Key, int]:
        """Position of each value in display order, for sorting."""
        return {option.key: index for index, option in enumerate(self.options.get(dimension, ()))}

    @property
    def technology_codes(self) -> list[str]:
        return [str(option.key) for option in self.technologies]

    @property
    def challenge_codes(self) -> list[str]:
        return [str(option.key) for option in self.challenges]

    def other_waves(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options.get("wave", ()) if option.key != self.wave_id)
