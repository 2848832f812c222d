from wizard import create_app
from wizard.ops.operations import log_requests_to_stdout

app = create_app()
log_requests_to_stdout()
