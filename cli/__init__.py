"""The casework command line: parses arguments, calls workflow.service, formats the result."""
__all__: list[str] = []
