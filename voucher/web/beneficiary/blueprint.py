"""The beneficiaries' blueprint, on which the self-service views register their routes."""

from flask import Blueprint

bp = Blueprint("beneficiary", __name__)
