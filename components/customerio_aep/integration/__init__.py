"""CustomerIoToAep, the whole integration as one component: its arguments and their checks (args.py), the AEP
objects (aep_objects.py), where Customer.io posts and its webhooks (webhooks.py), the parts it is made of (parts.py),
and the component itself (component.py)."""

from customerio_aep.integration.args import INGRESS_MODES, CustomerIoToAepArgs
from customerio_aep.integration.component import CustomerIoToAep
from customerio_aep.integration.parts import Parts

__all__ = ["INGRESS_MODES", "CustomerIoToAep", "CustomerIoToAepArgs", "Parts"]
