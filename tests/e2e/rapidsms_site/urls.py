"""URLs: Kannel inbound view (backend "kannel-bridge"), a generic HTTP view, the delivery-report view.

The delivery-report route must keep the name "kannel-delivery-report": KannelBackend reverse()s it
to build the dlr-url.
"""

from __future__ import annotations

from django.urls import path  # type: ignore[import-untyped]
from rapidsms.backends.http.views import GenericHttpBackendView  # type: ignore[import-untyped]
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
    # RapidSMS's generic HTTP view (modembridge router format="generic"); replies still go out through
    # the "kannel-bridge" backend. Field names as configured: phone / message.
    path(
        "backend/http-bridge/",
        GenericHttpBackendView.as_view(
            backend_name="kannel-bridge", params={"identity_name": "phone", "text_name": "message"}
        ),
        name="http-bridge",
    ),
    path("delivery-report/", DeliveryReportView.as_view(), name="kannel-delivery-report"),
]
