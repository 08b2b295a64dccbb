"""Orchestration (Heat v1): stacks made from HOT templates, through the same services as the REST API.

The package has the service's usual shape: :mod:`.model` (``cloud.orchestration``,
the facade with Heat's rules for stack requests), :mod:`.configs` (software
configs), :mod:`.schemas` (Heat's bodies and query strings into typed
requests), :mod:`.api` (the routes) and :mod:`.views` (the JSON bodies). The
template engine itself (templates, functions, parameters, the resource types
and the background work on stacks) is the library :mod:`stacksim.heat`.

Implemented: stacks (create, preview, update and its preview, PATCH updates,
delete, suspend, resume, check, cancel update, rollback, adopt refused),
lookups by name with Heat's redirects, outputs, resources (list with nested
depth and filters, show, metadata, mark unhealthy, signal), events, template
validation, resource types and their schemas and templates, template versions
and functions, nested stacks (template resources, ``ResourceGroup``), wait
conditions signalled over HTTP, HOT versions 2013-05-23 to 2021-04-16, and
Heat's limits (:mod:`stacksim.heat.limits`: template size and depth, resources
per stack, stacks per project, nesting, body size, ``template_url`` fetch time).

Left out: snapshots, abandon/adopt/export, the software config and deployment
APIs (``OS::Heat::SoftwareConfig`` is kept, but has no routes), stack hooks
(breakpoints), ``/services``, convergence, the CloudFormation-compatible API
and CFN templates, and the resource types :mod:`stacksim.heat.resources`
names as not implemented.
"""
