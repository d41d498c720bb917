"""The JSON API under /api/v1: marshmallow schemas, flask-smorest views, OpenAPI 3."""

# One module per resource; each defines `blp`, a flask_smorest.Blueprint.
RESOURCES = (
    "auth",
    "reference",
    "ente",
    "providers",
    "schemes",
    "beneficiaries",
    "vouchers",
    "redemptions",
    "balance",
    "reports",
    "siuss",
)


def register_api(app) -> None:
    from importlib import import_module

    from ..errors import DomainError
    from ..extensions import api, csrf
    from .problems import domain_problem, is_api_request, problem
    from .security import load_principal

    api.init_app(
        app,
        spec_kwargs={
            "servers": [{"url": "/"}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    for name in RESOURCES:
        module = import_module(f"{__name__}.{name}")
        csrf.exempt(module.blp)  # bearer tokens, not cookies: no CSRF exposure
        api.register_blueprint(module.blp, url_prefix="/api/v1")

    @app.before_request
    def _api_principal():
        if is_api_request():
            load_principal()

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if is_api_request():
            return domain_problem(error)
        from ..web.errors import render_domain_error_page

        return render_domain_error_page(error)

    @app.errorhandler(RecursionError)
    def _nested_too_deep(error: RecursionError):
        # The JSON decoder recurses once per level: a body nested past the interpreter's
        # limit is malformed input, not a server fault.
        if is_api_request():
            return problem(400, "bad_request", "Il corpo della richiesta è annidato troppo.")
        raise error
