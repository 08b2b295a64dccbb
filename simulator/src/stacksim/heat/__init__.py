"""The HOT template engine behind Orchestration (Heat v1).

- :mod:`.template`: reading templates, their versions and sections;
- :mod:`.parameters`, :mod:`.constraints`, :mod:`.environment`: what a stack is given;
- :mod:`.functions`: the intrinsic functions, version by version;
- :mod:`.stack`: a template with its environment and parameters, parsed and validated;
- :mod:`.graph`: the resource graph;
- :mod:`.resources`: the resource types, one module per family;
- :mod:`.lookup`: what templates name (flavors, images, networks ...), found through the services' facades;
- :mod:`.run` and :mod:`.engine`: stacks at work, in the background;
- :mod:`.limits` and :mod:`.fetch`: how big templates and stacks may grow, and ``template_url``.

The Orchestration service (:mod:`stacksim.services.orchestration`) is this
library's one user: its model takes the API's requests and hands the work
to the engine.
"""
