"""URLs: the Kannel inbound view for backend "kannel-bridge" and Kannel's delivery-report view.

The delivery-report route must keep the name "kannel-delivery-report": KannelBackend reverse()s it
to build the dlr-url.
"""

from __future__ import annotations

from django.urls import path  # type: ignore[import-untyped]
from rapidsms.backends.kannel.views import (  # type: ignore[import-untyped]
    DeliveryReportView,
    KannelBackendView,
)

urlpatterns = [
    path(
        "backend/kannel-bridge/",
        KannelBackendView.as_view(backend_name="kannel-bridge"),
        name="kannel-bridge",
    ),
    path("delivery-report/", DeliveryReportView.as_view(), name="kannel-delivery-report"),
]
