"""The figures of `autograder.figures` drawn for feedback.html: SVG images from matplotlib's object API (no
pyplot state, no display), embedded as data URIs, so a page is one file and nothing in an image can run."""
import base64
import io

PASS_COLOUR, FAIL_COLOUR, LINE_COLOUR = "#2a7d2a", "#b03030", "#555555"
WIDTH, MARGINS = 6, {"left": 0.85, "right": 0.15, "top": 0.35, "bottom": 0.55}  # inches: room for the labels


def _figure(height):
    """A figure with fixed margins: a layout engine would measure every label first, and double the cost."""
    from matplotlib.figure import Figure  # only a run with figures pays for the import
    figure = Figure(figsize=(WIDTH, height))
    figure.subplots_adjust(left=MARGINS["left"] / WIDTH, right=1 - MARGINS["right"] / WIDTH,
                           top=1 - MARGINS["top"] / height, bottom=MARGINS["bottom"] / height)
    return figure, figure.add_subplot()


def _curve(axes, drawing):
    for label, points in drawing["series"].items():
        axes.plot([p[0] for p in points], [p[1] for p in points], label=label)
    if drawing["pass_line"] is not None:
        axes.axhline(drawing["pass_line"], color=LINE_COLOUR, linestyle="--", label="pass line")
    if drawing["log"]:
        axes.set_yscale("log")
    axes.xaxis.get_major_locator().set_params(integer=True)  # steps and epochs are whole numbers
    axes.set_xlabel(drawing["xlabel"])
    axes.set_ylabel(drawing["ylabel"])
    axes.legend(loc="best", fontsize="small")


def _pass_line(axes, drawing):
    value, line = drawing["value"], drawing["pass_line"]
    passed = value >= line if drawing["higher_is_better"] else value <= line
    axes.barh(["yours"], [value], color=PASS_COLOUR if passed else FAIL_COLOUR)
    axes.axvline(line, color=LINE_COLOUR, linestyle="--")
    axes.set_xlim(min(0, value, line), max(value, line) * 1.15 or 1)
    better = "higher" if drawing["higher_is_better"] else "lower"
    axes.set_xlabel(f"yours {value:.3g}{drawing['unit']}, pass line (dashed) {line:.3g}{drawing['unit']}: "
                    f"{better} is better")


DRAW = {"curve": (_curve, 2.8), "pass_line": (_pass_line, 1.5)}  # how, and how tall (inches)


def data_uri(drawing):
    """A curve or pass-line figure as an SVG data URI."""
    draw, height = DRAW[drawing["kind"]]
    figure, axes = _figure(height)
    draw(axes, drawing)
    # placed where matplotlib puts it anyway: left to find that, it measured every tick label (7% of a page)
    axes.set_title(drawing["title"], fontsize="medium", wrap=True, y=1.0, pad=6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
