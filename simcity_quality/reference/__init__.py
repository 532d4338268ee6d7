"""The Mesa reference: the engine's rules written the idiomatic Mesa way (one ``mesa.Agent`` per
firm), the readable specification of behaviour and the speed anchor. It shares definitions
with the engine (categories, KPI functions, the ledger), never behavioural rules.
"""

from .model import Contractor, Enterprise, ReferenceCityModel, ServiceFirm

__all__ = ["Contractor", "Enterprise", "ReferenceCityModel", "ServiceFirm"]
