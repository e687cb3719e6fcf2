"""Buffered entry point of the streaming app (e.g. `sam local invoke StreamFunction -e events/...`):
mangum answers with the whole event stream as one body. Deployed, the function URL runs
`run.sh` under the Lambda Web Adapter instead, which streams frame by frame."""

from main import app
from mangum import Mangum

lambda_handler = Mangum(app, lifespan="off")
