"""Identity (Keystone v3), with Keystone's default policy.

Implemented:

- tokens: password, token (re-scoping) and application-credential methods;
  project, domain and system scopes; validate, check and revoke; the
  ``/v3/auth`` catalog, projects, domains and system calls. Roles are worked
  out when a token is used, so a revoked role or a left group counts at once;
  an application credential's token never outlives the credential.
- domains (and their domain-specific configuration document), projects (with
  ``parents``/``subtree`` on show, tags and tag filters), users, groups and
  group membership, roles and implied roles (``/v3/roles/{prior}/implies/...``,
  ``/v3/role_inferences``);
- role grants to users and groups on projects, domains and the system, and
  ``/v3/role_assignments`` (``effective`` expands groups and implied roles,
  ``include_subtree``, ``include_names``);
- application credentials (roles, expiry, ``unrestricted``, access rules and
  ``/v3/users/{id}/access_rules``), credentials (``/v3/credentials``) and EC2
  credentials (``/v3/users/{id}/credentials/OS-EC2``);
- the catalog: regions, services and endpoints (created, changed and deleted
  by admins, the catalog following), endpoint groups and project-endpoint
  associations (OS-EP-FILTER, which filter a project's catalog);
- unified limits: registered limits and project or domain limits (the
  ``flat`` model).

Left out: federation (identity providers, mappings, protocols, service
providers), OAuth1 and OAuth2, trusts, inherited grants (OS-INHERIT),
policies (``/v3/policies``), revocation events (OS-REVOKE), the EC2 and S3
token validation calls (``/v3/ec2tokens``, ``/v3/s3tokens``), TOTP and other
MFA rules, password rules (expiry, history, lock-out), cascade deletion of
project trees, domain-specific drivers (a domain's config is stored and
served, not used) and enforcement of limits (stacksim's services keep their
own quotas).

Layout: :mod:`.model` is the facade (``cloud.identity``) the auth layer and the
other services call; one module per resource holds its rules; :mod:`.schemas`
turns request bodies into the typed requests of :mod:`.specs`; :mod:`.policy`
is Keystone's default policy; :mod:`.views` renders; :mod:`.api` and the
``*_api`` modules are the routes.
"""
