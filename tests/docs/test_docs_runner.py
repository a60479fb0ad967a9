"""The docs runner itself: blocks share a folder, failures name FILE:LINE, markers are read."""

from __future__ import annotations

import pytest
from docs_runner import DocsBlockError, page_run, parse_blocks

PAGE = """# A page

```yaml file=data/in.txt
hello from a file block
```

```console
$ cat data/in.txt
hello from a file block
$ echo one \\
    two > out.txt
```

```python
text = open("out.txt").read().strip()
```

```python
assert text == "one two", text
```

```bash skip-docs-run needs a GPU
nvidia-smi
```

```python
x = 1
raise RuntimeError("boom")
```

```bash
true
false
```
"""


def test_blocks_share_a_folder_and_failures_name_the_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    blocks = parse_blocks(page)
    assert [b.lang for b in blocks] == [
        "yaml",
        "console",
        "python",
        "python",
        "bash",
        "python",
        "bash",
    ]
    assert blocks[4].skip_reason == "needs a GPU"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    with page_run(cwd, tmp_path / "home") as run:
        for b in blocks[:4]:
            run.run(b)
        with pytest.raises(DocsBlockError, match=r"page\.md:28: python block .*RuntimeError: boom"):
            run.run(blocks[5])
        with pytest.raises(DocsBlockError, match=r"page\.md:33: shell command exited 1"):
            run.run(blocks[6])


def test_a_backtick_in_an_info_string_is_an_error(tmp_path):
    page = tmp_path / "bad.md"
    page.write_text("```bash skip-docs-run needs `make`\nmake\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.md:1"):
        parse_blocks(page)
