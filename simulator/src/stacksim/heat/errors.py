"""Heat's errors, with its messages and the type names its API reports.

Each is an :class:`~stacksim.faults.ApiError`, so raising one from the API
layer gives Heat's fault body (``error.type`` is the class name, as Heat's
fault middleware reports it).
"""

from __future__ import annotations

from collections.abc import Sequence

from stacksim import faults


class HeatError(faults.ApiError):
    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, status=status, kind=type(self).__name__)


def join_path(path: Sequence[str | int]) -> str:
    """Heat's rendering of a path: ``resources.server.properties.networks[0].port``."""
    text = ""
    for item in path:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            text += f"[{item}]"
        elif text:
            text += f".{item}"
        else:
            text = str(item)
    return text


class StackValidationFailed(HeatError):
    """``<error>: <path>: <message>``, each part only when given."""

    def __init__(self, message: str, path: Sequence[str | int] = (), error: str = "") -> None:
        self.error = error
        self.path = list(path)
        self.bare = message
        where = join_path(self.path)
        text = (f"{error}: " if error else "") + (f"{where}: " if where else "") + message
        super().__init__(text)


class InvalidTemplateVersion(HeatError):
    def __init__(self, explanation: str) -> None:
        super().__init__(f"The template version is invalid: {explanation}")


class InvalidTemplateSection(HeatError):
    def __init__(self, section: str) -> None:
        super().__init__(f"The template section is invalid: {section}")


class InvalidTemplateReference(HeatError):
    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f'The specified reference "{resource}" (in {key}) is incorrect.')


class InvalidTemplateAttribute(HeatError):
    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"The Referenced Attribute ({resource} {key}) is incorrect.")


class UserParameterMissing(HeatError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Parameter ({key}) was not provided.")


class UnknownUserParameter(HeatError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Parameter ({key}) was not defined in template.")


class ImmutableParameterModified(HeatError):
    def __init__(self, keys: Sequence[str]) -> None:
        super().__init__(f"The following parameters are immutable and may not be updated: {', '.join(keys)}")


class InvalidSchemaError(HeatError):
    pass


class CircularDependencyException(HeatError):
    def __init__(self, cycle: str) -> None:
        super().__init__(f"Circular Dependency Found: {cycle}")


class ResourceTypeNotFound(HeatError):
    def __init__(self, type_name: str, status: int = 400) -> None:
        super().__init__(f"The Resource Type ({type_name}) could not be found.", status=status)


class EntityNotFound(HeatError):
    status = 404

    def __init__(self, entity: str, name: str) -> None:
        super().__init__(f"The {entity} ({name}) could not be found.")


class ResourceNotFound(HeatError):
    status = 404

    def __init__(self, resource_name: str, stack_name: str) -> None:
        super().__init__(f"The Resource ({resource_name}) could not be found in Stack {stack_name}.")


class StackExists(HeatError):
    status = 409

    def __init__(self, stack_name: str) -> None:
        super().__init__(f"The Stack ({stack_name}) already exists.")


class ActionInProgress(HeatError):
    status = 409

    def __init__(self, stack_name: str, action: str) -> None:
        super().__init__(f"Stack {stack_name} already has an action ({action}) in progress.")


class NotSupported(HeatError):
    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature} is not supported.")


class RequestLimitExceeded(HeatError):
    def __init__(self, message: str) -> None:
        super().__init__(f"Request limit exceeded: {message}")


class InvalidTenant(HeatError):
    status = 403

    def __init__(self, target: str, actual: str | None) -> None:
        super().__init__(f"Searching Tenant {target} from Tenant {actual} forbidden.")


class ResourceFailure(Exception):
    """A resource action failed; ``str()`` is what its event and the stack's reason show.

    ``error`` is the exception class name Heat reports (``BadRequest``,
    ``ResourceInError`` ...) and ``path`` where it happened
    (``resources.server3``), so the message reads as Heat's
    ``BadRequest: resources.server3: Image x could not be found.``
    """

    def __init__(self, error: str, path: Sequence[str | int], message: str) -> None:
        self.error = error
        self.path = list(path)
        self.message = message
        #: the resource action that failed (``CREATE`` ...), once the engine knows it
        self.action: str | None = None
        where = join_path(self.path)
        super().__init__((f"{error}: " if error else "") + (f"{where}: " if where else "") + message)


class Cancelled(Exception):
    """Thrown into a running stack action: a user cancelled it, or it is being deleted."""


class TimedOut(Exception):
    """Thrown into a running stack action when its ``timeout_mins`` has passed."""
