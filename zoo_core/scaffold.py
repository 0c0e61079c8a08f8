"""`zoo new-plugin NAME`: write a minimal working plugin package to start from.

The files are rendered from the templates in ``zoo_core/templates/plugin`` (package data):
``$name`` is the entry-point name, ``$dist`` the distribution, ``$package`` the import name,
``$core_requirement`` the zoo-core release line the plugin is written against.
``docs/writing-plugins.md`` includes what they render to for ``example``, and
``tests/test_docs.py`` fails when the two drift apart.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from .errors import ZooError
from .names import KEBAB, MAX_LENGTH

SUFFIX = ".tmpl"


@dataclass(frozen=True)
class Names:
    """Everything a plugin is called, from its entry-point name."""

    name: str  # entry point, and the model: "my-net"
    dist: str  # distribution: "zoo-my-net"
    package: str  # import name: "zoo_my_net"

    @classmethod
    def of(cls, name: str) -> Names:
        return cls(name, f"zoo-{name}", f"zoo_{name.replace('-', '_')}")

    @property
    def registered(self) -> tuple[str, ...]:
        """The model, dataset and metric names the generated plugin registers."""
        return (self.name, f"{self.name}-moons", f"{self.name}-balanced-accuracy")

    def path(self, template: str) -> str:
        """Where a template's output goes: placeholders in its path replaced, suffix dropped."""
        module = self.package.removeprefix("zoo_")
        return template.removesuffix(SUFFIX).replace("PACKAGE", self.package).replace("MODULE", module)


def core_requirement() -> str:
    """``zoo-core>=X.Y,<X.(Y+1)``: the release line of the installed zoo-core, whose API a plugin uses."""
    import re

    from .version import __version__

    release = re.match(r"(\d+)\.(\d+)", __version__)
    if release is None:  # a source tree that is not installed has no release line to pin
        return "zoo-core"
    major, minor = int(release[1]), int(release[2])
    return f"zoo-core>={major}.{minor},<{major}.{minor + 1}"


def render(name: str) -> dict[str, str]:
    """The generated plugin's files, relative path -> text, without writing anything."""
    names = Names.of(name)
    values = {
        "name": names.name,
        "dist": names.dist,
        "package": names.package,
        "core_requirement": core_requirement(),
    }
    files: dict[str, str] = {}
    root = resources.files("zoo_core") / "templates" / "plugin"
    for template, text in sorted(_walk(root, "")):
        files[names.path(template)] = Template(text).substitute(values)
    return files


def _walk(folder: Any, prefix: str) -> list[tuple[str, str]]:
    found = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SUFFIX):
            found.append((prefix + entry.name, entry.read_text(encoding="utf-8")))
    return found


def refusal(name: str) -> str | None:
    """Why no plugin may be called ``name``, or None when one may."""
    import importlib.util
    from importlib.metadata import entry_points

    from .plugins import CORE_PLUGIN, ENTRY_POINT_GROUP
    from .registry import get_registry

    shown = repr(name[:20]) + ("…" if len(name) > 20 else "")
    if not KEBAB.match(name):
        return f"plugin name {shown} must be lowercase kebab-case, like 'my-net'"
    names = Names.of(name)
    longest = MAX_LENGTH - max(len(taken) for taken in names.registered) + len(name)
    if len(name) > longest:  # its dataset and metric add to the name, and must still be valid names
        return f"plugin name {shown} is {len(name)} characters long; at most {longest}"
    if name in ("core", "zoo", CORE_PLUGIN) or name.startswith("zoo-"):
        return f"{name!r} would clash with the zoo's own names; leave out 'zoo': the distribution is zoo-NAME"
    installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in installed:
        dist = installed[name].dist
        owner = f" ({dist.name} {dist.version})" if dist else ""
        return f"a plugin named {name!r} is already installed{owner}"
    if importlib.util.find_spec(names.package) is not None:
        return f"a module named {names.package} is already installed"
    registry = get_registry()
    tables = (("model", registry.models), ("dataset", registry.datasets), ("metric", registry.metrics))
    for taken in names.registered:
        for kind, table in tables:
            if taken in table:
                return f"{taken!r} is already the name of a {kind} of plugin {table[taken].plugin!r}"
    return None


def create(name: str, directory: Path, option: str = "--dir") -> tuple[Path, list[str]]:
    """Write the plugin ``name`` into ``directory/name``; return that folder and the files written.

    Nothing is written when the name or the folder is refused, and the plugin's folder appears
    whole or not at all; folders created on the way are removed again when it does not.
    ``option`` names ``directory`` in messages.
    """
    from . import paths

    refused = refusal(name)
    if refused:
        raise ZooError(refused)
    paths.check_new_folder(directory, option)
    target = directory / name
    if target.exists():
        raise ZooError(f"{target} already exists; nothing was written (choose another name or {option})")
    files = render(name)
    created = paths.create_folders(directory, option)
    staging = directory / f".{name}.partial-{secrets.token_hex(4)}"
    try:
        staging.mkdir()  # next to the target, so the final rename cannot cross file systems
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.rename(staging, target)  # never over an existing folder: rename refuses a non-empty one
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        paths.remove_folders(created)
        if isinstance(exc, OSError):
            raise ZooError(f"cannot write a plugin into {directory}: {paths.reason(exc)}") from None
        raise
    return target, list(files)
