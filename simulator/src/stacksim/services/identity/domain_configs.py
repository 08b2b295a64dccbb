"""Domain-specific configuration: a document of ``identity`` and ``ldap`` options per domain.

Stored and served as Keystone's API does (the groups and options it accepts,
sensitive options such as ``ldap.password`` kept but never shown); stacksim's
own users stay in its store whatever a domain's ``identity.driver`` says.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record
from stacksim.store import atomic

#: the options Keystone accepts per group (its ``whitelisted_options``)
OPTIONS = {
    "identity": ("driver", "list_limit"),
    "ldap": [
        "url",
        "user",
        "suffix",
        "query_scope",
        "page_size",
        "alias_dereferencing",
        "debug_level",
        "chase_referrals",
        "user_tree_dn",
        "user_filter",
        "user_objectclass",
        "user_id_attribute",
        "user_name_attribute",
        "user_mail_attribute",
        "user_description_attribute",
        "user_pass_attribute",
        "user_enabled_attribute",
        "user_enabled_invert",
        "user_enabled_mask",
        "user_enabled_default",
        "user_attribute_ignore",
        "user_default_project_id_attribute",
        "user_enabled_emulation",
        "user_enabled_emulation_dn",
        "user_enabled_emulation_use_group_config",
        "user_additional_attribute_mapping",
        "group_tree_dn",
        "group_filter",
        "group_objectclass",
        "group_id_attribute",
        "group_name_attribute",
        "group_members_are_ids",
        "group_member_attribute",
        "group_desc_attribute",
        "group_attribute_ignore",
        "group_additional_attribute_mapping",
        "tls_cacertfile",
        "tls_cacertdir",
        "use_tls",
        "tls_req_cert",
        "use_pool",
        "pool_size",
        "pool_retry_max",
        "pool_retry_delay",
        "pool_connection_timeout",
        "pool_connection_lifetime",
        "use_auth_pool",
        "auth_pool_size",
        "auth_pool_connection_lifetime",
    ],
}
#: options kept but never shown
SENSITIVE = {"identity": (), "ldap": ("password",)}
#: what ``/v3/domains/config/default`` shows: Keystone's own defaults for the options above
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost",
        "user": None,
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "alias_dereferencing": "default",
        "debug_level": None,
        "chase_referrals": None,
        "user_tree_dn": None,
        "user_filter": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "user_description_attribute": "description",
        "user_pass_attribute": "userPassword",
        "user_enabled_attribute": "enabled",
        "user_enabled_invert": False,
        "user_enabled_mask": 0,
        "user_enabled_default": "True",
        "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None,
        "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None,
        "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [],
        "group_tree_dn": None,
        "group_filter": None,
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_members_are_ids": False,
        "group_member_attribute": "member",
        "group_desc_attribute": "description",
        "group_attribute_ignore": [],
        "group_additional_attribute_mapping": [],
        "tls_cacertfile": None,
        "tls_cacertdir": None,
        "use_tls": False,
        "tls_req_cert": "demand",
        "use_pool": True,
        "pool_size": 10,
        "pool_retry_max": 3,
        "pool_retry_delay": 0.1,
        "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600,
        "use_auth_pool": True,
        "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}


def _invalid(reason: str) -> faults.Forbidden:
    return faults.Forbidden(f"Invalid domain specific configuration: {reason}.")


def _check_option(group: str | None, option: str | None) -> None:
    if group is None:
        return
    if group not in OPTIONS:
        raise _invalid(f"Group {group} is not supported for domain specific configurations")
    if option is not None and option not in OPTIONS[group] and option not in SENSITIVE[group]:
        raise _invalid(f"Option {option} in group {group} is not supported for domain specific configurations")


def _check_config(config: dict[str, Any]) -> None:
    if not config:
        raise _invalid("No options specified")
    for group, options in config.items():
        if not options or not isinstance(options, dict):
            raise _invalid(f"The value of group {group} specified in the config should be a dictionary of options")
        _check_option(group, None)
        for option in options:
            _check_option(group, option)


def _missing(domain_id: str, group: str | None, option: str | None) -> faults.NotFound:
    what = f"option {option} in group {group}" if option else f"group {group}" if group else "any options"
    return faults.NotFound(f"Could not find {what} in domain configuration for domain {domain_id}.")


def _shown(config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``config`` without its sensitive options (and without groups left empty)."""
    out = {}
    for group, options in config.items():
        kept = {k: v for k, v in options.items() if k not in SENSITIVE.get(group, ())}
        if kept:
            out[group] = kept
    return out


class DomainConfigs(Part):
    kind = "domain_config"
    label = "domain config"

    def _stored(self, domain_id: str) -> dict[str, dict[str, Any]]:
        self.identity.domains.get(domain_id)
        record = self.store.get(self.kind, domain_id)
        return record["config"] if record else {}

    def _save(self, domain_id: str, config: dict[str, dict[str, Any]]) -> None:
        if config:
            self.store.put(self.kind, {"id": domain_id, "config": config})
        else:
            self.store.delete(self.kind, domain_id)

    @atomic
    def create(self, domain_id: str, config: dict[str, Any]) -> tuple[Record, bool]:
        """Replace the domain's whole config; returns what is shown and whether it is new."""
        _check_config(config)
        existed = bool(self._stored(domain_id))
        self._save(domain_id, {g: dict(o) for g, o in config.items()})
        return _shown(config), not existed

    def get(self, domain_id: str, group: str | None = None, option: str | None = None) -> Record:  # type: ignore[override]
        """The config, one group of it (``{option: value}``) or one option (``{option: value}``)."""
        _check_option(group, option)
        config = _shown(self._stored(domain_id))
        if group is None:
            if not config:
                raise _missing(domain_id, None, None)
            return config
        options = config.get(group)
        if not options:
            raise _missing(domain_id, group, None)
        if option is None:
            return options
        if option not in options:
            raise _missing(domain_id, group, option)
        return {option: options[option]}

    @atomic
    def update(self, domain_id: str, config: dict[str, Any], group: str | None = None, option: str | None = None):
        """Merge ``config`` into the domain's; with ``group`` (and ``option``), only that part, which must exist."""
        _check_option(group, option)
        change = {group: config} if group and option else config
        _check_config(change)
        stored = self._stored(domain_id)
        if group:
            if len(change) != 1 or group not in change or (option and list(change[group]) != [option]):
                target = f"option {option} in group {group}" if option else f"group {group}"
                raise _invalid(f"Trying to update {target}, so that, and only that, must be specified in the config")
            if group not in stored or (option and option not in stored[group]):
                raise _missing(domain_id, group, option)
        merged = {g: dict(o) for g, o in stored.items()}
        for g, options in change.items():
            merged.setdefault(g, {}).update(options)
        self._save(domain_id, merged)
        return _shown(merged)

    @atomic
    def delete(self, domain_id: str, group: str | None = None, option: str | None = None) -> None:
        _check_option(group, option)
        stored = self._stored(domain_id)
        if group is None:  # the whole config (none is no error, as Keystone)
            self._save(domain_id, {})
            return
        if group not in stored or (option and option not in stored[group]):
            raise _missing(domain_id, group, option)
        merged = {g: dict(o) for g, o in stored.items()}
        if option:
            merged[group].pop(option)
            if not merged[group]:
                merged.pop(group)
        else:
            merged.pop(group)
        self._save(domain_id, merged)

    @staticmethod
    def defaults(group: str | None = None, option: str | None = None) -> dict[str, Any]:
        """Keystone's defaults for the options a domain may set (as ``/v3/domains/config/default``)."""
        _check_option(group, option)
        if group is None:
            return {g: dict(o) for g, o in DEFAULTS.items()}
        if option is None:
            return dict(DEFAULTS[group])
        if option not in DEFAULTS[group]:
            raise faults.NotFound(f"Could not find option {option} in group {group} of the default configuration.")
        return {option: DEFAULTS[group][option]}
