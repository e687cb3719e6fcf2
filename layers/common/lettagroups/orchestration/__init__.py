"""Group runs: the tasks the state machine calls, and the adapter that starts executions."""
