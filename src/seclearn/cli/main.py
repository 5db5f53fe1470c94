"""The ``seclearn`` command line.

Each command parses its options, calls one library function and renders the result.
Errors from the library (``SeclearnError``) become one line on stderr and exit code 2;
no modelling logic lives here. The commands live in ``_data``, ``_models`` and
``_score``; importing them registers them on :data:`app`, in the order
``seclearn --help`` lists them.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from seclearn.cli import (  # noqa: F401  # importing registers the commands
    _attack,
    _data,
    _feedback,
    _lifecycle,
    _models,
    _monitor,
    _score,
    _serve,
    _state,
)
from seclearn.cli._app import app, err
from seclearn.errors import SeclearnError


def main() -> None:
    """Entry point: run the app, turning seclearn errors into one clean line."""
    try:
        # without standalone mode click returns the code of ``typer.Exit(n)`` instead of exiting
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SeclearnError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        if isinstance(exc, _usage_errors()):
            exc.show()  # type: ignore[attr-defined]  # every ClickException has show/exit_code
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error base class: from click, or the copy that typer >= 0.26 vendors."""
    found: list[type[Exception]] = []
    try:
        from click import ClickException

        found.append(ClickException)
    except ImportError:
        pass
    try:
        from typer._click.exceptions import ClickException as VendoredClickException

        found.append(VendoredClickException)
    except ImportError:
        pass
    return tuple(found)


if __name__ == "__main__":
    main()
