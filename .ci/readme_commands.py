"""Print the commands of the README's first ```bash block, one per line.

CI runs exactly these, so the README's install and test commands stay true.
A trailing `# comment` is dropped.
"""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"```bash\n(.*?)```", text, re.S)
if block is None:
    sys.exit("README.md has no ```bash block with the install and test commands")
for line in block.group(1).splitlines():
    command = re.sub(r"\s+#.*$", "", line).strip()
    if command:
        print(command)
