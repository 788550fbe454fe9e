"""The Activity history section uses the activity sync's fixtures (tenants with both keys)."""

from tests.usage.conftest import billed, frozen, tenant

__all__ = ["billed", "frozen", "tenant"]
