"""The gRPC door: SpaceONE's ``spaceone.api.report.v1.Report``, for spacectl and SpaceONE's clients.

``[grpc] listen = "HOST:PORT"`` turns it on (off when unset; loopback when HOST is left out);
``reportd serve`` then serves it beside HTTP, with grpc.health.v1 health checking and server
reflection (v1alpha, the one ``spaceone.core``'s client uses). The service is built from the
vendor's own descriptors (``descriptors.py``): all four methods of the real service, ``get``,
``get_download_url``, ``list`` and ``create``, with the original field names and numbers. Each
method is one call of ``reportd.entrypoints.spaceone_wire``, which the REST binding
(``entrypoints/api/dialects/spaceone.py``) calls too: same use cases, same tenancy, same rules.

Auth: the API key in the ``token`` metadata, as spacectl sends its ``api_key``. ``x_domain_id``
metadata, when sent, must be the key's tenant, and stands for ``domain_id`` in a request that
leaves it out. Errors: the gRPC status of SpaceONE's error class with details
``"ERROR_...: message"``, as ``spaceone.core.pygrpc.api`` aborts (codes in ``spaceone_wire``).

Modules: ``server`` (start, stop), ``report`` (the four methods), ``descriptors`` (the
vendor's descriptors, ``spaceone_report_v1.binpb``). Nothing here imports grpcio until used.

Deviations from a SpaceONE server, and why:

- Only ``spaceone.api.report.v1.Report`` is listed by reflection (as SpaceONE lists only its own
  services): spaceone.core's client imports a local ``_pb2_grpc`` module for every listed
  service, and would fail on ``grpc.health.v1``. Health and reflection are served all the same
  and reflection describes them when asked by name. The sibling ``Storage`` and ``StorageType``
  services of report.v1 are not served: reportd's storages are the operator's configuration.
- ``domain_id`` is required (or ``x_domain_id``) and must be the caller's, as over REST; a
  SpaceONE server fills it in from the token instead. Another domain is PERMISSION_DENIED.
- API keys only: SpaceONE's JWT tokens (and its identity service) are not there.
- proto3 cannot send a zero value: ``state: CREATED`` (the enum's 0) in ReportQuery is no filter;
  use ``query.filter`` ``{k: state, v: CREATED}``. Struct numbers are doubles: integral ones are
  read as integers (``5``, not ``5.0``) before the template's option schema sees them.
- Links from ``get_download_url`` point at the HTTP server (``[server] public_url``, else its bind
  address), since a gRPC call has no Host header to build them from.
- Plaintext only (no ``grpc+ssl``): put a TLS-terminating proxy in front for a public bind.
- Under ``reportd serve --http-processes N`` each HTTP process serves the gRPC port too (grpcio
  binds it with ``SO_REUSEPORT``, so they share it as they share the HTTP socket).
- Health is SERVING from start to shutdown (NOT_SERVING while draining); it does not follow the
  database (HTTP ``/readyz`` does).
"""
