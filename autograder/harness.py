"""Kernel-side witness harness, sent as source into the student's kernel after the notebook ran.

It only computes: it runs a probe (grader-written code calling the student's
functions on grader-supplied inputs) and displays the raw outputs under
WITNESS_MIME. Nothing it reports is believed except as data for the judge.
"""
WITNESS_MIME = "application/vnd.autograder.witness+json"


def make_runner(wire, user_namespace, display):
    """Return run(code, payload): execute `code` with the decoded inputs, display the witness."""
    import traceback

    def describe(error):
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        return {"error": {"type": type(error).__name__, "message": str(error)[:2000],
                          "traceback": "".join(lines[-8:])[-4000:]}}

    def run(code, payload):
        inputs = wire.decode(payload)
        namespace = dict(user_namespace)
        namespace.update(inputs)
        try:
            exec(compile(code, "<autograder probe>", "exec"), namespace)
            text = wire.encode({"result": namespace.get("result"), "inputs_after": inputs})
            if len(text) > wire.MAX_WIRE_BYTES:
                raise wire.WireError(f"the result is {len(text) / 2**20:.0f} MB, over the "
                                     f"{wire.MAX_WIRE_BYTES / 2**20:.0f} MB limit")
        except Exception as error:  # the student's exception is data for the judge
            text = wire.encode(describe(error))
        # a probe's functions refer to the namespace they were defined in: without this, the cycle would keep
        # its result alive until the garbage collector runs, and a few large results would add up
        namespace.clear()
        display({WITNESS_MIME: text}, raw=True)

    return run
