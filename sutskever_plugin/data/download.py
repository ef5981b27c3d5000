"""Downloading and unpacking corpora (urllib only; atomic, skips finished files)."""
import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request

from .textio import DataPrepError, atomic_dir, atomic_path

logger = logging.getLogger(__name__)


def download(url: str, dest: str, timeout: float = 60.0) -> str:
    """Fetch ``url`` to ``dest`` unless ``dest`` already exists (written atomically)."""
    if os.path.exists(dest):
        logger.info(f"already downloaded: {dest}")
        return dest
    logger.info(f"downloading {url} -> {dest}")
    try:
        with atomic_path(dest) as tmp:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f, length=1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise DataPrepError(
            f"could not download {url}: {reason}. Without internet access, fetch the file "
            f"elsewhere and put it at {dest} (or pass a directory holding it with --raw-dir)"
        ) from None
    return dest


def extract_tar(archive: str, dest_dir: str) -> str:
    """Unpack a .tgz into ``dest_dir`` (skipped if already unpacked completely)."""
    if os.path.isdir(dest_dir):
        return dest_dir
    logger.info(f"extracting {archive} -> {dest_dir}")
    try:
        with atomic_dir(dest_dir) as tmp, tarfile.open(archive) as tar:
            try:
                tar.extractall(tmp, filter="data")
            except TypeError:  # Python without tarfile filters
                tar.extractall(tmp)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataPrepError(f"{archive}: cannot unpack ({e}); delete it to download again") from None
    return dest_dir
