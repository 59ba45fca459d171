"""A build log that shows what matters: the snippets, MkDocs' result, and every warning.

Two libraries log one line per file at INFO. mkdocs-jupyter (0.26.3) logs "Cache hit",
"Cache miss" and "Copied jupyter file" for every notebook, about 100 lines a build, and
jieba (Material's Chinese word splitter for search) logs how it loaded its dictionary.
Their loggers are raised to WARNING here, so their warnings and errors still show and
still fail ``mkdocs build --strict``. The notebooks that are not in the nav are named in
``not_in_nav`` (mkdocs.yml), so MkDocs does not list them either.
"""

import logging

import jieba

logging.getLogger("mkdocs.plugins.mkdocs_jupyter").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)  # jieba sets its own level when it is imported
