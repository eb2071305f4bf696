"""Schema-driven fuzzing: schemathesis generates requests from our own OpenAPI; none may cause a 500."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from conftest import tiny_examples
from replyqa.api import create_app
from replyqa.config import Settings
from replyqa.model import TrainParams, train

_models = Path(__file__).resolve().parent / ".no-models"
app = create_app(
    Settings(models_dir=_models, watch_model=False, max_batch=20, admin_token="fuzz-token"),  # type: ignore[call-arg]
    train(tiny_examples(), TrainParams(min_df=1, calibration_folds=2, char_max_features=2000)),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_generated_request_causes_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    # 503 is what an endpoint says when it has no model to serve (admin reload here); never a 500.
    assert response.status_code != 500, (case.method, case.path, response.text)
    if response.status_code != 503:
        case.validate_response(response, checks=[not_a_server_error])
