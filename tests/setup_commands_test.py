#!/usr/bin/env python3
"""Every external command the project's scripts and tests call comes from a package scripts/setup installs.

A development machine has commands a clean Debian 12 lacks (curl, /usr/bin/time, ...); a test that calls one
passes here and fails on the next machine. This test finds the commands called by

  - shell scripts (scripts/, .ci/, bench/, *.sh and shims under src/ and tests/): words in command position,
  - Python (tests/, tools/, bench/): the first element of argument lists, shutil.which(), absolute paths,
  - JavaScript tests: spawn/execFile of a literal, absolute paths,
  - CMake: add_test(... COMMAND <program>),
  - C++ tests: absolute /usr/bin and /usr/sbin paths in string literals,

resolves each one that exists on this machine to the Debian package that owns it (dpkg -S), and fails unless
that package is listed in scripts/setup, is a direct dependency of a listed package, or is one every Debian
system has (Essential: yes or Priority: required). Words that are not commands here are ignored, so a false
candidate can only make the test stricter, never let a missing package through.

Exit 0 passed, 1 failed, 77 skipped (not a Debian system: no dpkg).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# The PATH of a clean machine: not the developer's (pyenv, cargo, /usr/local/cuda...).
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHELL_WORDS = {
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in", "function",
    "select", "time", "coproc", "!", "{", "}", "[[", "]]",
    # builtins that are also files in /usr/bin on some systems
    "echo", "printf", "test", "[", "true", "false", "kill", "pwd", "cd", "read", "command", "type", "wait",
    "exec", "exit", "return", "set", "unset", "export", "local", "declare", "shift", "trap", "source", ".",
    "eval", "let", "ulimit", "umask", "getopts", "hash", "readonly", "mapfile", "builtin", "jobs", "disown",
}
PRECOMMANDS = {"sudo", "$SUDO", "exec", "command", "nice", "nohup", "env", "time", "timeout", "then", "do", "else",
               "!", "if", "while", "until", "xargs"}


def tracked(patterns):
    out = subprocess.run(["git", "-C", SOURCE_DIR, "ls-files", "-z", "--", *patterns], capture_output=True)
    if out.returncode == 0:
        return [os.path.join(SOURCE_DIR, p) for p in out.stdout.decode().split("\0") if p]
    # Not a git checkout (e.g. an unpacked source tree): glob instead.
    files = []
    for p in patterns:
        files += glob.glob(os.path.join(SOURCE_DIR, p), recursive=True)
    return files


def is_shell_script(path):
    if path.endswith(".sh"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline()
    except OSError:
        return False
    return first.startswith(b"#!") and (b"bash" in first or b"/sh" in first)


def strip_shell(text):
    # Heredoc bodies are data (or another language), single-quoted strings are awk/sed programs.
    text = re.sub(r"<<-?\s*'?\"?(\w+)'?\"?[^\n]*\n.*?\n\s*\1\n", "\n", text, flags=re.S)
    text = re.sub(r"'[^']*'", "''", text)
    text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.split("\n"))
    text = re.sub(r"\w+\+?=\([^)]*\)", "", text)  # array assignments: data, not commands
    return text


def shell_commands(text):
    found = set()
    functions = set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)", text, flags=re.M))
    text = strip_shell(text)
    text = re.sub(r"\\\n", " ", text)
    found |= set(re.findall(r"command -v ([\w.+-]+)", text))
    for segment in re.split(r"\n|\|\|?|&&|;|\$\(|`|\(|\)|\{|\}|&", text):
        words = segment.split()
        while words and (words[0] in PRECOMMANDS or re.match(r"^\w+=", words[0]) or words[0].startswith("-")):
            words = words[1:]
        if words and re.fullmatch(r"[A-Za-z][\w.+-]*|/[\w./+-]+", words[0]):
            found.add(words[0])
    return {c for c in found if c not in SHELL_WORDS and c not in functions}


def python_commands(text):
    found = set(re.findall(r"\[\s*[\"']([A-Za-z][\w.+-]*|/usr/s?bin/[\w.+-]+)[\"']\s*[,\]]", text))
    found |= set(re.findall(r"shutil\.which\(\s*[\"']([\w.+-]+)[\"']", text))
    found |= set(re.findall(r"[\"'](/usr/s?bin/[\w.+-]+)[\"']", text))
    return found


def js_commands(text):
    found = set(re.findall(r"(?:spawn|spawnSync|execFile|execFileSync)\(\s*[\"']([\w./+-]+)[\"']", text))
    found |= set(re.findall(r"[\"'](/usr/s?bin/[\w.+-]+)[\"']", text))
    return found


def cmake_commands(text):
    return {c for c in re.findall(r"COMMAND\s+([^\s)$\"]+)", text) if not c.startswith("$")}


def cxx_commands(text):
    return set(re.findall(r"\"(/usr/s?bin/[\w.+-]+)", text))


def collect():
    """Returns {command: set of files that call it}."""
    calls = {}

    def add(cmds, path):
        for c in cmds:
            calls.setdefault(c, set()).add(os.path.relpath(path, SOURCE_DIR))

    shell_like = [p for p in tracked(["scripts/*", ".ci/*", "bench/**", "src/**", "tests/**"]) if is_shell_script(p)]
    for path in shell_like:
        add(shell_commands(open(path, encoding="utf-8", errors="replace").read()), path)
    for path in tracked(["tests/**/*.py", "tools/*.py", "bench/**/*.py"]):
        add(python_commands(open(path, encoding="utf-8").read()), path)
    for path in tracked(["tests/**/*.mjs", "tests/**/*.js"]):
        add(js_commands(open(path, encoding="utf-8").read()), path)
    for path in tracked(["**/CMakeLists.txt", "**/*.cmake"]):
        add(cmake_commands(open(path, encoding="utf-8").read()), path)
    for path in tracked(["src/**/*_test.cc", "src/**/*_testing.h", "tests/**/*.cc", "tests/**/*.h", "src/**/*_bench.cc",
                         "src/cli/bench_*.cc"]):
        add(cxx_commands(open(path, encoding="utf-8").read()), path)
    return calls


def setup_packages():
    """The package names of scripts/setup's arrays (`name=(...)` and `name+=(...)`, comments dropped)."""
    text = open(os.path.join(SOURCE_DIR, "scripts", "setup"), encoding="utf-8").read()
    names = set()
    text = re.sub(r"#.*", "", text)
    for body in re.findall(r"\w*packages\+?=\(([^)]*)\)", text):
        names |= set(body.split())
    return {n for n in names if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", n)}


def dpkg_owners(paths):
    """{path: owning package} for the paths some installed package owns, from one dpkg -S call. A path is
    also looked up resolved and without /usr (merged /usr: a package may own /bin/x)."""
    variants = {}
    for path in paths:
        for v in (path, os.path.realpath(path), path[4:] if path.startswith("/usr/") else path):
            variants.setdefault(v, path)
    out = subprocess.run(["dpkg", "-S", *variants], capture_output=True, text=True).stdout
    owners = {}
    for line in out.splitlines():
        pkgs, _, owned = line.partition(": ")
        if owned in variants:
            owners.setdefault(variants[owned], pkgs.split(",")[0].split(":")[0].strip())
    return owners


def installed_packages():
    """{package: (dependency names, in the base system)} for every installed package, from one dpkg-query."""
    fmt = "${Package}\\t${Depends}, ${Pre-Depends}\\t${Essential}\\t${Priority}\\n"
    out = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True, check=True).stdout
    packages = {}
    for line in out.splitlines():
        name, depends, essential, priority = line.split("\t")
        deps = {d.strip().split(" ")[0].split(":")[0] for d in re.split(r"[,|]", depends)} - {""}
        packages[name] = (deps, essential == "yes" or priority == "required")
    return packages


def main():
    if not shutil.which("dpkg"):
        print("skipped: not a Debian system (no dpkg)")
        return 77
    listed = setup_packages()
    if len(listed) < 10:
        print(f"FAILED: could not read the package lists of scripts/setup (found {sorted(listed)})")
        return 1
    # Installing a listed package installs its dependencies, recursively.
    packages = installed_packages()
    allowed, todo = set(), list(listed)
    while todo:
        pkg = todo.pop()
        if pkg not in allowed:
            allowed.add(pkg)
            todo += packages.get(pkg, (set(), False))[0] - allowed
    resolved = {}
    for command, files in sorted(collect().items()):
        path = command if command.startswith("/") else shutil.which(command, path=SYSTEM_PATH)
        if not path or not os.path.exists(path) or path.startswith(SOURCE_DIR):
            continue  # not a command on this machine (a false candidate, or the project's own binary)
        resolved[command] = (path, files)
    owners = dpkg_owners([path for path, _ in resolved.values()])
    failures, checked = [], len(resolved)
    for command, (path, files) in resolved.items():
        pkg = owners.get(path)
        callers = ", ".join(sorted(files))
        if pkg is None:
            failures.append(f"{command} ({path}) belongs to no Debian package; called by {callers}")
        elif not packages.get(pkg, (set(), False))[1] and pkg not in allowed:
            failures.append(f"{command} ({path}) comes from package {pkg}, which scripts/setup does not install; "
                            f"called by {callers}")
    print(f"{checked} external commands checked against {len(listed)} packages of scripts/setup")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
