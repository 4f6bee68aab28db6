"""``keras.utils.Config``: a dict of named settings read and written as attributes, that can be frozen and written
as JSON.

>>> config = Config(learning_rate=0.1)
>>> config.seed = 123
>>> config["seed"], config.learning_rate, sorted(config)
(123, 0.1, ['learning_rate', 'seed'])
>>> config.freeze()
>>> config.seed = 1
Traceback (most recent call last):
ValueError: Cannot mutate attribute(s) because the config is frozen.
"""
from __future__ import annotations

import copy
import difflib
import json


class Config:
    """Named values with attribute and item access, ``freeze()``/``unfreeze()``, ``as_dict()`` and ``to_json()``."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self) -> dict:
        return copy.copy(self._config)

    def to_json(self) -> str:
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs) -> None:
        self._raise_if_frozen()
        self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def __setattr__(self, name, value) -> None:
        if name in type(self).__dict__:  # the class's own attributes (frozen) stay read-only properties
            raise AttributeError(f"Cannot set the Config's own attribute {name!r}")
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name):
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        message = f"Unknown attribute: '{name}'."
        closest = difflib.get_close_matches(name, list(config), n=1, cutoff=0.7)
        if closest:
            message += f" Did you mean '{closest[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key, item) -> None:
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key) -> None:
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item) -> bool:
        return item in self._config

    def __iter__(self):
        return iter(sorted(self._config))

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"
