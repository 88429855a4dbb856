"""Import every module that registers views; add a module here when it defines new ones."""

from warehouse.views import (
    analyst,  # noqa: F401
    core,  # noqa: F401
    labor,  # noqa: F401
)
