"""Import every module that registers views; add a module here when it defines new ones."""
from warehouse.views import analyst  # noqa: F401
from warehouse.views import core  # noqa: F401
from warehouse.views import labor  # noqa: F401
