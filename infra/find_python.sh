#!/bin/sh
# Print the path of a working python$1 (the Lambda runtime's version), or nothing.
# A bare `python3.13` may be a pyenv shim that fails unless selected, so each candidate is run.
version="$1"
for candidate in "python$version" $(pyenv root 2>/dev/null | sed 's|$|/versions|' | xargs -I{} sh -c "ls -d {}/$version* 2>/dev/null | sort -rV | sed 's|$|/bin/python$version|'"); do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if "$path" -c 'import sys, venv' >/dev/null 2>&1; then
        "$path" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done
exit 0
