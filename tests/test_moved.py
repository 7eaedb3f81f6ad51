"""Old import paths of modules that moved into packages keep working (moved.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import inference_nb
from inference_nb.moved import MOVED


def test_old_paths_give_the_same_objects_as_the_new_ones():
    from inference_nb.handle import Backend, Run
    from inference_nb.render import InlineImage, bundle, to_dataframe

    from inference_nb.kernel.backends import Backend as NewBackend
    from inference_nb.results import display, files, frames

    assert Run is inference_nb.Run and Backend is NewBackend
    assert (to_dataframe, InlineImage, bundle) == (frames.to_dataframe, files.InlineImage, display.bundle)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_each_old_module_imports_in_a_fresh_process(old):
    code = f"import inference_nb.{old} as m; print(m.__doc__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Moved: see inference_nb.")


def test_a_name_that_never_was_there_says_where_the_module_went():
    import inference_nb.render as render

    with pytest.raises(AttributeError, match=r"moved to inference_nb\.results\.frames.*no attribute 'nothing'"):
        render.nothing  # noqa: B018


def test_the_public_surface_is_one_list_and_every_name_in_it_resolves():
    assert {"embedded_server", "hosted_tasks", "hosted_runs", "errors"} <= set(inference_nb.__all__)
    for name in inference_nb.__all__:
        assert getattr(inference_nb, name) is not None
