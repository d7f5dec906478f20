"""The tests run against the installed package, never the source tree."""
import os

import fastops


def test_imported_from_installed_package():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pkg = os.path.dirname(os.path.abspath(fastops.__file__))
    assert not pkg.startswith(os.path.join(here, "fastops")), (
        f"fastops was imported from the source tree ({pkg}); install it with `pip install .`")


def test_compiled_extensions_present():
    import fastops._kernels as k
    assert k.__file__.endswith((".so", ".pyd"))
