"""Kernel-side witness harness, sent as source into the student's kernel after the notebook ran.

It only computes: it runs a probe (grader-written code calling the student's
functions on grader-supplied inputs) and displays the raw outputs under
WITNESS_MIME. Nothing it reports is believed except as data for the judge.
"""
WITNESS_MIME = "application/vnd.autograder.witness+json"


def make_runner(wire, user_namespace, display):
    """Return run(code, payload): execute `code` with the decoded inputs, display the witness."""
    import traceback

    def run(code, payload):
        inputs = wire.decode(payload)
        namespace = dict(user_namespace)
        namespace.update(inputs)
        try:
            exec(compile(code, "<autograder probe>", "exec"), namespace)
            witness = {"result": namespace.get("result"), "inputs_after": inputs}
        except Exception as error:  # the student's exception is data for the judge
            lines = traceback.format_exception(type(error), error, error.__traceback__)
            witness = {"error": {"type": type(error).__name__, "message": str(error)[:2000],
                                 "traceback": "".join(lines[-8:])[-4000:]}}
        display({WITNESS_MIME: wire.encode(witness)}, raw=True)

    return run
