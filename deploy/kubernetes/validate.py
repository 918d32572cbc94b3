#!/usr/bin/env python3
"""Renders the kustomizations of deploy/kubernetes and validates every object, offline.

kustomize and kubectl are not packaged for Debian bookworm (its kubernetes-client is 1.20), so
this renders the subset of kustomization.yaml the manifests use: `resources` (files, and
directories holding a kustomization), `namespace`, `labels` (pairs added to each object's
metadata.labels) and `images` (name -> newName:newTag in every container and init container).
Any other field stops it, so it never renders something differently from kustomize unnoticed.

Each object is validated with kubernetes-validate's bundled JSON schemas in strict mode (unknown
fields fail) for every Kubernetes version in KUBERNETES_VERSIONS; a LeaderWorkerSet against
schemas/leaderworkerset-v1.json, a schema written for this repository (not taken from the CRD)
whose pod templates refer to the bundled core definitions. Then RadixServe's own rules: each
pod's terminationGracePeriodSeconds exceeds the --drain-timeout it passes, every container has
resource requests and limits and a locked-down securityContext, the pods run as non-root, the
Secrets and keys they mount exist in secrets.example.yaml, Services select pods and name ports
those pods have, and no container is left with the unrewritten image name.

Usage: validate.py [DIRECTORY]   (default: the directory of this file)
"""

import json
import os
import re
import sys

import yaml
import jsonschema
import kubernetes_validate
import referencing
from importlib import resources as importlib_resources

KUBERNETES_VERSIONS = ["1.29", "1.33"]
IMAGE_NAME = "radixserve"
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "labels", "resources", "images"}
CLUSTER_SCOPED_KINDS = {"Namespace"}


class Failure(Exception):
    pass


def render(directory):
    """The objects `kustomize build directory` gives, for the fields listed in the docstring."""
    path = os.path.join(directory, "kustomization.yaml")
    with open(path) as file:
        kustomization = yaml.safe_load(file)
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise Failure(f"{path}: this renderer does not implement {', '.join(sorted(unknown))}")
    if kustomization.get("kind") != "Kustomization":
        raise Failure(f"{path}: kind must be Kustomization")
    objects = []
    for resource in kustomization.get("resources", []):
        resource_path = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(resource_path):
            objects.extend(render(resource_path))
        else:
            with open(resource_path) as file:
                objects.extend(document for document in yaml.safe_load_all(file) if document)
    for item in objects:
        metadata = item.setdefault("metadata", {})
        if "namespace" in kustomization and item["kind"] not in CLUSTER_SCOPED_KINDS:
            metadata["namespace"] = kustomization["namespace"]
        for label_set in kustomization.get("labels", []):
            if set(label_set) - {"pairs"}:
                raise Failure(f"{path}: labels entries may hold only 'pairs' here")
            metadata.setdefault("labels", {}).update(label_set["pairs"])
        for image in kustomization.get("images", []):
            for container in containers(item):
                if re.fullmatch(re.escape(image["name"]) + r"([:@].*)?", container.get("image", "")):
                    container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    seen = set()
    for item in objects:
        identity = (item["kind"], item["metadata"].get("namespace"), item["metadata"]["name"])
        if identity in seen:
            raise Failure(f"{path}: {identity} is defined twice")
        seen.add(identity)
    return objects


def containers(value):
    """Every container and init container anywhere inside value (pod templates of any kind)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key in ("containers", "initContainers") and isinstance(child, list):
                yield from child
            else:
                yield from containers(child)
    elif isinstance(value, list):
        for child in value:
            yield from containers(child)


def pod_templates(item):
    """(label, PodTemplateSpec) of each pod template of a workload object."""
    spec = item.get("spec", {})
    if item["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        yield item["metadata"]["name"], spec["template"]
    elif item["kind"] == "LeaderWorkerSet":
        template = spec["leaderWorkerTemplate"]
        for role in ("leaderTemplate", "workerTemplate"):
            if role in template:
                yield f"{item['metadata']['name']} {role}", template[role]


def name_of(item):
    return f"{item['kind']}/{item['metadata']['name']}"


def validate_schema(item, version, lws_schema):
    if item["kind"] != "LeaderWorkerSet":
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            location = "/".join(str(part) for part in error.path)
            raise Failure(f"{name_of(item)}: Kubernetes {version} schema: {location}: {error.message}")
        return
    # The bundled core definitions of the newest bundled release not newer than `version`.
    bundled = sorted(
        (v for v in kubernetes_validate.utils.all_versions() if kubernetes_validate.utils.major_minor(v) <= version),
        key=lambda v: [int(part) for part in v.split(".")])[-1]
    reference = importlib_resources.files("kubernetes_validate").joinpath(
        f"kubernetes-json-schema/v{bundled}-local-strict/_definitions.json")
    definitions = json.loads(reference.read_text())
    registry = referencing.Registry().with_resource(
        "https://kubernetes.io/api/_definitions.json", referencing.Resource.from_contents(definitions))
    validator = jsonschema.Draft202012Validator(lws_schema, registry=registry)
    errors = sorted(validator.iter_errors(item), key=lambda error: [str(part) for part in error.path])
    if errors:
        raise Failure("; ".join(
            f"{name_of(item)}: LeaderWorkerSet schema with Kubernetes {version} core types: "
            f"{'/'.join(str(part) for part in error.path)}: {error.message}" for error in errors))


def check_pods(item, secrets):
    problems = []
    for label, template in pod_templates(item):
        spec = template["spec"]
        security = spec.get("securityContext", {})
        if security.get("runAsNonRoot") is not True:
            problems.append(f"{label}: securityContext.runAsNonRoot must be true")
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            where = f"{label} container {container['name']}"
            context = container.get("securityContext", {})
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem must be true")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation must be false")
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities must drop ALL")
            limits = container.get("resources", {})
            if not {"cpu", "memory"} <= set(limits.get("requests", {})) or "memory" not in limits.get("limits", {}):
                problems.append(f"{where}: needs cpu and memory requests and a memory limit")
            if container.get("image", "").split(":")[0] == IMAGE_NAME:
                problems.append(f"{where}: image '{container.get('image')}' was not rewritten by the kustomization's images")
            command = " ".join(container.get("command", []) + container.get("args", []))
            drain = re.search(r"--drain-timeout[ =]([0-9.]+)", command)
            if drain and not spec.get("terminationGracePeriodSeconds", 30) > float(drain.group(1)):
                problems.append(
                    f"{where}: terminationGracePeriodSeconds ({spec.get('terminationGracePeriodSeconds', 30)}) "
                    f"must exceed --drain-timeout ({drain.group(1)})")
            if container["name"] in ("worker",) and not drain:
                problems.append(f"{where}: a worker should pass --drain-timeout")
        for volume in spec.get("volumes", []):
            sources = [source["secret"] for source in volume.get("projected", {}).get("sources", []) if "secret" in source]
            if "secret" in volume:
                sources.append({"name": volume["secret"]["secretName"], "items": volume["secret"].get("items", [])})
            for source in sources:
                keys = secrets.get(source["name"])
                if keys is None:
                    problems.append(f"{label}: mounts Secret {source['name']}, which secrets.example.yaml does not define")
                    continue
                for entry in source.get("items", []):
                    if entry["key"] not in keys:
                        problems.append(f"{label}: Secret {source['name']} has no key {entry['key']}")
        for container in spec.get("containers", []):
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference and reference["key"] not in secrets.get(reference["name"], set()):
                    problems.append(f"{label}: env {variable['name']} refers to {reference['name']}/{reference['key']}, not in secrets.example.yaml")
    return problems


def check_services(objects):
    problems = []
    templates = [template for item in objects for _, template in pod_templates(item)]
    for service in (item for item in objects if item["kind"] == "Service"):
        selector = service["spec"].get("selector", {})
        matching = [t for t in templates if selector.items() <= t["metadata"].get("labels", {}).items()]
        if not matching:
            problems.append(f"{name_of(service)}: its selector {selector} matches no pod template")
            continue
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            exposed = {p.get("name") for t in matching for c in t["spec"]["containers"] for p in c.get("ports", [])}
            exposed |= {p["containerPort"] for t in matching for c in t["spec"]["containers"] for p in c.get("ports", [])}
            if target not in exposed:
                problems.append(f"{name_of(service)}: targetPort {target} is not a port of the pods it selects")
    return problems


def main():
    directory = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
    with open(os.path.join(directory, "schemas", "leaderworkerset-v1.json")) as file:
        lws_schema = json.load(file)
    with open(os.path.join(directory, "secrets.example.yaml")) as file:
        secret_objects = [document for document in yaml.safe_load_all(file) if document]
    secrets = {item["metadata"]["name"]: set(item.get("stringData", {})) | set(item.get("data", {})) for item in secret_objects}
    kustomizations = sorted(
        os.path.relpath(root, directory) for root, _, files in os.walk(directory) if "kustomization.yaml" in files)
    failures = []
    validated = 0
    for relative in kustomizations:
        try:
            objects = render(os.path.join(directory, relative))
        except (Failure, OSError, yaml.YAMLError, KeyError) as error:
            failures.append(f"{relative}: cannot render: {error}")
            continue
        problems = check_services(objects)
        for item in objects:
            for version in KUBERNETES_VERSIONS:
                try:
                    validate_schema(item, version, lws_schema)
                except Failure as error:
                    problems.append(str(error))
            problems += check_pods(item, secrets)
        kinds = ", ".join(name_of(item) for item in objects)
        if problems:
            failures += [f"{relative}: {problem}" for problem in problems]
        print(f"  kustomization {relative}: {len(objects)} objects ({kinds}): "
              f"{'FAILED' if problems else 'valid'} for Kubernetes {', '.join(KUBERNETES_VERSIONS)}")
        validated += len(objects)
    for item in secret_objects:
        for version in KUBERNETES_VERSIONS:
            try:
                validate_schema(item, version, lws_schema)
            except Failure as error:
                failures.append(f"secrets.example.yaml: {error}")
    print(f"  secrets.example.yaml: {len(secret_objects)} Secrets ({', '.join(sorted(secrets))})")
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        print(f"kubernetes: {len(failures)} problems", file=sys.stderr)
        return 1
    print(f"kubernetes: {validated + len(secret_objects)} rendered objects valid (strict schemas, LeaderWorkerSet by "
          f"schemas/leaderworkerset-v1.json, drain, security, resources, Secrets, Services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
