"""Config problems: what is wrong, in which file, which entry and which field."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

PathPart = str | int


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the config, located so that a person can fix it without the code.

    `entry` names the item ("scenario 'supply-crisis'"), `field` the path inside it in the JSON's
    own spelling ("modifiers[0].target.stream"); either is empty when the problem is wider.
    """

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = [self.entry] if self.entry else []
        if self.field:
            where.append(f"field '{self.field}'")
        location = ", ".join(where)
        return (
            f"{self.file}: {location}: {self.message}"
            if location
            else f"{self.file}: {self.message}"
        )


class ConfigError(Exception):
    """The config cannot be used: carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        return f"{len(self.problems)} problem(s) in the config:\n{lines}"


@dataclass(frozen=True)
class Section:
    """A collection of named entries in a config file, for naming the entry of a problem.

    `id_key` is the key that names a list item ("id", "name"); None when the collection is a JSON
    object keyed by the entry's name.
    """

    label: str
    id_key: str | None


def format_path(parts: Sequence[PathPart]) -> str:
    """Render a path the way the JSON reads: `modifiers[0].target.stream`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def locate_in_json(raw: object, loc: Sequence[PathPart]) -> list[PathPart]:
    """Keep the parts of a pydantic error location that exist in the raw JSON.

    Pydantic adds union tags and validator names to locations; they are not keys of the file and
    would only confuse the reader. A last part absent from an object is kept: a missing key.
    """
    path: list[PathPart] = []
    node = raw
    for index, part in enumerate(loc):
        if _has(node, part):
            node = node[part]  # type: ignore[index]
            path.append(part)
        elif index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            path.append(part)
    return path


def _has(node: object, part: PathPart) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def entry_and_field(
    raw: object, path: Sequence[PathPart], sections: Mapping[tuple[str, ...], Section]
) -> tuple[str, str]:
    """Split a path into the entry it belongs to and the field inside that entry."""
    for prefix in sorted(sections, key=len, reverse=True):
        if tuple(path[: len(prefix)]) == prefix and len(path) > len(prefix):
            section = sections[prefix]
            key = path[len(prefix)]
            name = _entry_name(raw, [*prefix, key], section)
            return f"{section.label} '{name}'", format_path(path[len(prefix) + 1 :])
    if len(path) > 1 and isinstance(raw, dict) and isinstance(raw.get(path[0]), dict | list):
        return str(path[0]), format_path(path[1:])
    return "", format_path(path)


def _entry_name(raw: object, path: Sequence[PathPart], section: Section) -> str:
    if section.id_key is None:
        return str(path[-1])
    node = raw
    for part in path:
        node = node[part]  # type: ignore[index]
    name = node.get(section.id_key) if isinstance(node, dict) else None
    return name if isinstance(name, str) else f"#{path[-1]}"


def problems_from_validation_error(
    file: str,
    raw: object,
    error: ValidationError,
    sections: Mapping[tuple[str, ...], Section],
    entry: str | None = None,
) -> list[ConfigProblem]:
    """Turn pydantic's errors into located problems; `entry` fixes the entry for a single item."""
    problems = []
    for detail in error.errors():
        path = locate_in_json(raw, detail["loc"])
        if entry is None:
            entry_name, field = entry_and_field(raw, path, sections)
        else:
            entry_name, field = entry, format_path(path)
        problems.append(ConfigProblem(file, entry_name, field, _message(detail)))
    return problems


def _message(detail: Mapping[str, object]) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown key, not part of the schema (check the spelling)"
    message = str(detail["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message[:1].lower() + message[1:]
    value = detail.get("input")
    if isinstance(value, str | int | float | bool) and "got " not in message:
        message += f" (got {value!r})"
    return message
