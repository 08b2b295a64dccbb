# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state kit: make a resource match a wish, truthfully and the same way in every module.

The kit is private to the collection and spread over a few files, each about one thing:

- ``_module``: ``AnsibleOpenStackModule``, the shared options (``cloud``, ``cloud_config``,
  ``auth`` ..., ``wait``/``timeout``), the lazy authenticated connection, the SDK version
  check, ``call``/``call_or_none``/``call_retrying_conflict`` with one-line failures, and
  who the token is (``access``, ``is_admin``).
- ``_resources``: ``Kind`` (one sort of resource), ``to_dict``/``plain`` (plain dicts with
  stable keys, never SDK objects), ``find`` (by id, else by exact name; ambiguity fails).
- ``_kinds``: the kinds the collection uses (``VOLUME``, ``SERVER``, ``IMAGE`` with every
  Glance property, ``SECURITY_GROUP``, ``STACK`` ...).
- ``_wait``: ``wait_for``/``wait_for_delete``/``wait_for_delete_all`` with a deadline and
  backoff, failing with the cloud's own reason (and cleaning up a failed or timed-out
  create); ``wait_settled`` for a module that judges the outcome itself.
- ``_glance``: ``patch_image``, Glance's JSON-patch update (the SDK's ``update_image``
  drops the custom properties it is not given).
- ``_errors``: one-line failure messages; ``best_effort`` for clean-up steps.
- ``_state`` (this file): ``ensure_present``/``ensure_absent``/``ensure_named_set``, which
  return a ``StateResult`` (``changed, before, after = result``) with the ``diff``.

How a module uses the kit::

    from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import VOLUME
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
    from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find
    from ansible_collections.opensandbox.cloud.plugins.module_utils._state import ensure_absent, ensure_present
    from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import wait_for

    def main():
        module = AnsibleOpenStackModule(argument_spec=SPEC, with_wait=True)
        p, cinder = module.params, module.conn.block_storage
        volume = find(module, VOLUME, p["name"])              # None when there is none
        if p["state"] == "absent":
            result = ensure_absent(module, VOLUME, volume, delete=lambda v: module.call(cinder.delete_volume, v))
        else:
            def create(wish):                                  # never called in check mode
                made = module.call(cinder.create_volume, name=wish["name"], size=wish["size"])
                return wait_for(module, VOLUME, made, ready={"available"})

            def extend(volume, changes):                       # one specific SDK call per change
                module.call(cinder.extend_volume, volume, changes["size"])
                return wait_for(module, VOLUME, volume, ready={"available"})

            result = ensure_present(
                module, VOLUME, volume,
                {"name": p["name"], "size": p["size"], "description": p["description"]},  # None: not managed
                create=create,
                updates={
                    "size": extend,
                    "description": lambda v, changes: module.call(cinder.update_volume, v, **changes),
                },
            )
        module.exit_json(**result.exit_kwargs("volume"))     # changed, volume (the view), diff

``changed`` is true exactly when something was (or, in check mode, would be) done. In
check mode nothing is written and ``after`` is the predicted view. A wished field that
differs and has no entry in ``updates`` cannot change in place: the module fails before
it changes anything, saying so. ``diff`` is ``{before, after}`` of the views (``{}`` for
a resource that does not exist), without the volatile ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import Kind, plain, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import wait_for_delete

if TYPE_CHECKING:
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule

#: Keys left out of ``diff``: they change with every write and say nothing about the wish.
DIFF_IGNORED = frozenset({"updated_at"})
#: A field, or several fields one SDK call updates together.
Fields = Union[str, tuple[str, ...]]  # noqa: UP007 - modules run on Python 3.10 targets too
#: ``update(resource, changes)``: apply ``changes`` (field -> wished value); may return the new resource.
Update = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Difference:
    """One wished field whose value differs from the resource's."""

    key: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.key}: {self.before!r} -> {self.after!r}"


@dataclass
class StateResult:
    """What an ``ensure_*`` did: ``changed, before, after = result``.

    ``before``/``after`` are views (plain dicts) or ``None`` for "does not exist";
    ``resource`` is the SDK resource after the change (``None`` when absent or only
    predicted); ``actions`` says what was (or would be) done, in order.
    """

    changed: bool
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    resource: Any = None
    actions: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.changed, self.before, self.after))

    @property
    def diff(self) -> dict[str, Any]:
        return build_diff(self.before, self.after)

    def fold(self, key: str, before: Any, after: Any, actions: Iterable[str] = ()) -> None:
        """Add a part managed separately (a volume's snapshots, say) to the views and the actions."""
        if self.before is not None:
            self.before[key] = before
        if self.after is not None:
            self.after[key] = after
        actions = list(actions)
        self.actions.extend(actions)
        self.changed = self.changed or bool(actions)

    def exit_kwargs(self, key: str, **extra: Any) -> dict[str, Any]:
        """``module.exit_json(**result.exit_kwargs("volume"))``: ``changed``, the view under ``key``, ``diff``."""
        return {"changed": self.changed, key: self.after, "diff": self.diff, **extra}


def build_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """Ansible's ``diff``: both views as plain data, ``{}`` for "does not exist", volatile keys left out."""

    def shown(view: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: plain(v) for k, v in (view or {}).items() if k not in DIFF_IGNORED}

    return {"before": shown(before), "after": shown(after)}


def differences(
    before: Mapping[str, Any],
    wish: Mapping[str, Any],
    *,
    equal: Mapping[str, Callable[[Any, Any], bool]] | None = None,
) -> list[Difference]:
    """The wished fields whose values differ from ``before``, in the wish's order.

    A wished value of ``None`` means "not managed" and never differs. Values are compared
    as plain data; ``equal`` gives a field its own comparison (e.g. case-insensitive).
    """
    found = []
    for key, want in wish.items():
        if want is None:
            continue
        have = before.get(key)
        same = (equal or {}).get(key)
        if not (same(have, want) if same else plain(have) == plain(want)):
            found.append(Difference(key, have, want))
    return found


def predicted(kind: Kind, wish: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The view a check-mode run reports: ``base`` (or every field ``None``) with the wish applied."""
    view = dict(base) if base is not None else dict.fromkeys(kind.keys())
    view.update({k: plain(v) for k, v in wish.items() if v is not None})
    return view


def ensure_present(
    module: AnsibleOpenStackModule,
    kind: Kind,
    current: Any,
    wish: Mapping[str, Any],
    *,
    create: Callable[[dict[str, Any]], Any],
    updates: Mapping[Fields, Update] | None = None,
    view: Callable[[Any], dict[str, Any]] | None = None,
    predict: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    equal: Mapping[str, Callable[[Any, Any], bool]] | None = None,
    refresh: Callable[[Any], Any] | None = None,
) -> StateResult:
    """Create ``current`` if it is ``None``, else update only the wished fields that differ.

    ``wish`` maps view keys to wished values (``None``: not managed). ``create(wish)``
    makes the resource and returns it (waiting if it must); ``updates`` maps a field, or
    a tuple of fields one call sets together, to ``update(resource, changes)``, run in
    that order with only the differing fields of its group. ``view`` defaults to
    ``to_dict(kind, ...)``; ``predict(wish)`` gives check mode's view of a resource to be
    created (default: ``predicted``); ``refresh(resource)`` re-reads it after updates
    (default: get by id). A differing field without an update fails the module before
    anything is changed.
    """
    view = view or (lambda resource: to_dict(kind, resource))
    wish = dict(wish)
    if current is None:
        if module.check_mode:
            after = predict(wish) if predict else predicted(kind, wish)
            return StateResult(True, None, after, actions=[f"create {kind.name}"])
        made = create(wish)
        return StateResult(True, None, view(made), resource=made, actions=[f"create {kind.name}"])

    before = view(current)
    found = differences(before, wish, equal=equal)
    if not found:
        return StateResult(False, before, dict(before), resource=current)
    plan = _plan(module, kind, current, found, updates or {})
    actions = [f"update {kind.name} {', '.join(d.key for d in group)}" for _update, group in plan]
    if module.check_mode:
        after = predicted(kind, {d.key: d.after for d in found}, base=before)
        return StateResult(True, before, after, resource=current, actions=actions, differences=found)
    resource = current
    for update, group in plan:
        returned = update(resource, {d.key: d.after for d in group})
        if returned is not None:
            resource = returned
    resource = refresh(resource) if refresh else module.call(kind.get(module.conn), resource.id)
    return StateResult(True, before, view(resource), resource=resource, actions=actions, differences=found)


def _plan(
    module: AnsibleOpenStackModule,
    kind: Kind,
    current: Any,
    found: Sequence[Difference],
    updates: Mapping[Fields, Update],
) -> list[tuple[Update, list[Difference]]]:
    """Pair each update with its differing fields, in ``updates`` order; fail first if one has none."""
    by_key = {d.key: d for d in found}
    plan = []
    covered: set[str] = set()
    for fields, update in updates.items():
        keys = (fields,) if isinstance(fields, str) else fields
        group = [by_key[k] for k in keys if k in by_key]
        covered.update(keys)
        if group:
            plan.append((update, group))
    fixed = [d for d in found if d.key not in covered]
    if fixed:
        what = "; ".join(f"{d.key} is {plain(d.before)!r}, not {plain(d.after)!r}" for d in fixed)
        module.fail_json(
            msg=f"{kind.label(current)} cannot be changed in place ({what}). Keep those options as they are, "
            f"or delete the {kind.name} first (state: absent) and create it again"
        )
    return plan


def ensure_absent(
    module: AnsibleOpenStackModule,
    kind: Kind,
    current: Any,
    *,
    delete: Callable[[Any], Any],
    view: Callable[[Any], dict[str, Any]] | None = None,
    wait: bool | None = None,
) -> StateResult:
    """Delete ``current`` unless it is ``None``; wait until it is gone (``wait`` defaults to the option)."""
    if current is None:
        return StateResult(False, None, None)
    before = (view or (lambda resource: to_dict(kind, resource)))(current)
    actions = [f"delete {kind.name}"]
    if module.check_mode:
        return StateResult(True, before, None, actions=actions)
    delete(current)
    if module.params.get("wait", True) if wait is None else wait:
        wait_for_delete(module, kind, current)
    return StateResult(True, before, None, actions=actions)


@dataclass
class SetResult:
    """What ``ensure_named_set`` did: the names before and after (sorted), and the names it added or removed."""

    changed: bool
    before: list[str]
    after: list[str]
    created: list[str]
    deleted: list[str]

    @property
    def actions(self) -> list[str]:
        return [f"create {n}" for n in self.created] + [f"delete {n}" for n in self.deleted]


def ensure_named_set(
    module: AnsibleOpenStackModule,
    existing: Iterable[Any],
    wanted: Iterable[str],
    *,
    create: Callable[[str], Any],
    delete: Callable[[Any], Any] | None = None,
    purge: bool = False,
    name_of: Callable[[Any], str | None] = lambda item: getattr(item, "name", None),
) -> SetResult:
    """Make a set of named things (a volume's snapshots, say) hold ``wanted``.

    Missing names are created with ``create(name)``, in the order given; with ``purge``,
    the others are deleted with ``delete(item)``. Nothing is called in check mode.
    """
    items = list(existing)
    have = [name_of(i) or "" for i in items]
    wanted = list(dict.fromkeys(wanted))
    created = [n for n in wanted if n not in have]
    extra = [i for i, n in zip(items, have, strict=True) if n not in wanted] if purge else []
    if not module.check_mode:
        for name in created:
            create(name)
        for item in extra:
            if delete is None:
                raise ValueError("ensure_named_set: purge needs delete")
            delete(item)
    deleted = [name_of(i) or "" for i in extra]
    after = [n for n in have if n not in deleted] + created
    return SetResult(bool(created or deleted), sorted(have), sorted(after), created, deleted)
