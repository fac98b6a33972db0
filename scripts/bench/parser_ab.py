#!/usr/bin/env python3
"""Builds the CombatLog parser twice — from PREVIOUS (a commit, default the release before issue 15) and from the
working tree — into one small release executable each (Benchmarks/ParserThroughput/main.swift and the parser's
sources, which need only Foundation and zlib), and answers their paths. Used by combatlog_breakdowns_bench.py so
the two parsers are measured by the same program."""
import os, shutil, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = """// swift-tools-version:5.10
import PackageDescription
let package = Package(
    name: "ParserThroughput",
    targets: [
        .systemLibrary(name: "CZlib", path: "CZlib"),
        .executableTarget(name: "parse", dependencies: ["CZlib"], path: "Sources", swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
    ])
"""


def build(label, commit, work):
    folder = os.path.join(work, label)
    sources = os.path.join(folder, "Sources")
    os.makedirs(sources, exist_ok=True)
    shutil.copytree(os.path.join(ROOT, "Sources", "CZlib"), os.path.join(folder, "CZlib"), dirs_exist_ok=True)
    with open(os.path.join(folder, "Package.swift"), "w") as f:
        f.write(PACKAGE.replace(', swiftSettings: [.unsafeFlags(["-Ounchecked"])]', ""))
    parser = "Plugins/CombatLog/Parser"
    if commit:
        names = subprocess.run(["git", "-C", ROOT, "ls-tree", "--name-only", f"{commit}:{parser}"],
                               capture_output=True, text=True, check=True).stdout.split()
        for name in names:
            with open(os.path.join(sources, name), "w") as f:
                f.write(subprocess.run(["git", "-C", ROOT, "show", f"{commit}:{parser}/{name}"],
                                       capture_output=True, text=True, check=True).stdout)
        gzip = subprocess.run(["git", "-C", ROOT, "ls-tree", "--name-only", f"{commit}:Sources/Gzip"], capture_output=True, text=True)
        for name in gzip.stdout.split() if gzip.returncode == 0 else []:
            with open(os.path.join(sources, name), "w") as f:
                f.write(subprocess.run(["git", "-C", ROOT, "show", f"{commit}:Sources/Gzip/{name}"],
                                       capture_output=True, text=True, check=True).stdout)
    else:
        for module in [parser, "Sources/Gzip"]:
            for name in os.listdir(os.path.join(ROOT, module)):
                shutil.copy(os.path.join(ROOT, module, name), sources)
    # Since the inflater became a module of its own (Sources/Gzip), the parser imports it: here they are one module.
    for name in os.listdir(sources):
        path = os.path.join(sources, name)
        text = open(path).read()
        if "import Gzip\n" in text:
            open(path, "w").write(text.replace("import Gzip\n", ""))
    shutil.copy(os.path.join(ROOT, "Benchmarks", "ParserThroughput", "main.swift"), sources)
    subprocess.run(["swift", "build", "-c", "release", "--package-path", folder], check=True, capture_output=True)
    return os.path.join(folder, ".build", "release", "parse")


if __name__ == "__main__":
    work = sys.argv[1]
    previous = os.environ.get("PREVIOUS", "d63b934")
    print(build("previous", previous, work))
    print(build("current", None, work))
