"""infra/aws/reelforge.yaml: cfn-lint finds no error, and the stack is created in moto's
CloudFormation (server mode, over HTTP, as the AWS CLI would talk to it). moto does not implement
every resource type, and a template that references one it lacks is refused whole; so the test
takes out the resources of types moto lacks (asking moto's own registry, not a hand list),
puts a placeholder where others reference them, prints what it took out, and requires every
other resource to be created."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from devstack.servers import REPO, VENV_BIN, Process, free_port, require_binary, wait_until

TEMPLATE = REPO / "infra" / "aws" / "reelforge.yaml"
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML's stubs give Any here
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, …) read in their long form."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _long_form)


def load_template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_Loader)  # type: ignore[no-any-return]


def moto_types() -> set[str]:
    """The resource types moto's CloudFormation implements (its own registry)."""
    from moto.backends import get_backend, list_of_moto_modules
    from moto.cloudformation.parsing import get_model_map

    for name in list_of_moto_modules():
        try:
            get_backend(name)  # type: ignore[call-overload]  # imports the service's models, which registers their types
        except Exception:  # a service whose optional dependencies are absent registers none
            continue
    return set(get_model_map())


def without(template: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    """The template with `removed` resources taken out and references to them as placeholders."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in removed:
                return f"moto-lacks-{node['Ref']}"
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in removed:
                return f"moto-lacks-{node['Fn::GetAtt'][0]}-{node['Fn::GetAtt'][1]}"
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return re.sub(r"\$\{(\w+)(\.[\w.]+)?\}",
                          lambda m: f"moto-lacks-{m[1]}" if m[1] in removed else m[0], node)  # fmt: skip
        return node

    out = walk({k: v for k, v in template.items() if k != "Resources"})
    resources = {}
    for name, resource in template["Resources"].items():
        if name in removed:
            continue
        resource = walk(resource)
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = [d for d in resource["DependsOn"] if d not in removed]
        resources[name] = resource
    out["Resources"] = resources
    return out  # type: ignore[no-any-return]


def test_cfn_lint_finds_no_error() -> None:
    binary = require_binary("cfn-lint", str(VENV_BIN / "cfn-lint"))
    result = subprocess.run([binary, str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr  # 0: no errors, no warnings


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    venv_moto = VENV_BIN / "moto_server"  # the locked moto, the one moto_types() asks
    binary = str(venv_moto) if venv_moto.exists() else require_binary("moto_server")
    port = free_port()
    root = tmp_path_factory.mktemp("moto-cfn")
    proc = Process("moto", [binary, "-H", "127.0.0.1", "-p", str(port)], {}, root / "moto.log")
    proc.start()
    url = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: _client("sts", url) and _ok(lambda: _client("sts", url).get_caller_identity()),
        30,
        "moto",
    )
    try:
        yield url
    finally:
        proc.stop()


def _client(service: str, url: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def _ok(call) -> bool:  # type: ignore[no-untyped-def]
    try:
        call()
        return True
    except Exception:
        return False


def test_the_stack_is_created_in_moto(moto: str, capsys: pytest.CaptureFixture[str]) -> None:
    ec2 = _client("ec2", moto)
    # The AMI default is an SSM public parameter, which moto serves like AWS does.
    assert (
        _client("ssm", moto)
        .get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"]
        .startswith("ami-")
    )
    template = load_template()
    declared = {name: res["Type"] for name, res in template["Resources"].items()}
    lacking = {name for name, kind in declared.items() if kind not in moto_types()}
    with capsys.disabled():
        print(f"\nmoto's CloudFormation lacks {len(lacking)} of {len(declared)} resources, taken out: "
              + ", ".join(sorted(f"{n} ({declared[n]})" for n in lacking)))  # fmt: skip
    assert {
        "Vpc",
        "Database",
        "Bucket",
        "ApiGroup",
        "WorkerGroup",
        "LoadBalancer",
        "ApiRole",
    }.isdisjoint(lacking)
    cfn = _client("cloudformation", moto)
    cfn.create_stack(
        StackName="reelforge",
        TemplateBody=json.dumps(without(template, lacking)),
        Parameters=[
            {"ParameterKey": "RepositoryUrl", "ParameterValue": "https://git.example/reelforge.git"}
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + 120
    while (
        status := cfn.describe_stacks(StackName="reelforge")["Stacks"][0]["StackStatus"]
    ).endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName="reelforge")[
        "StackEvents"
    ][:5]

    conditional = {"HttpsListener"}  # only with a CertificateArn
    summaries = cfn.list_stack_resources(StackName="reelforge")["StackResourceSummaries"]
    created = {r["LogicalResourceId"]: r for r in summaries if r["LogicalResourceId"]}
    # moto also lists the instance profiles' roles' attachments without a logical id; only those
    # moto adds one summary with every field empty (a quirk of its stack listing)
    assert all(not any(r[k] for k in ("PhysicalResourceId", "ResourceType")) for r in summaries
               if not r["LogicalResourceId"])  # fmt: skip
    assert set(created) == set(declared) - lacking - conditional
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in created.values())

    # What was created is what the template says: the two machine sizes, the bucket rules.
    templates = {
        t["LaunchTemplateName"]: t for t in ec2.describe_launch_templates()["LaunchTemplates"]
    }
    types = set()
    for name in templates:
        data = ec2.describe_launch_template_versions(LaunchTemplateName=name)[
            "LaunchTemplateVersions"
        ][0]
        types.add(data["LaunchTemplateData"]["InstanceType"])
    assert types == {"m7i.large", "c7i.xlarge"}
    groups = _client("autoscaling", moto).describe_auto_scaling_groups()["AutoScalingGroups"]
    assert len(groups) == 2
    bucket = created["Bucket"]["PhysicalResourceId"]
    _client("s3", moto).head_bucket(Bucket=bucket)  # (moto's CFN ignores lifecycle and CORS rules)
    db = _client("rds", moto).describe_db_instances()["DBInstances"][0]
    assert db["Engine"] == "postgres" and db["StorageEncrypted"] and not db["PubliclyAccessible"]


def test_the_template_reads_as_docs_deploy_describes() -> None:
    resources = load_template()["Resources"]
    params = resources["CacheParameters"]["Properties"]["Properties"]
    assert params == {"maxmemory-policy": "noeviction"}
    # the worker group scales on the backlog (target) and the oldest job's age (step alarm)
    tracking = resources["WorkerBacklogTracking"]["Properties"]["TargetTrackingConfiguration"]
    metrics = {m["Id"]: m for m in tracking["CustomizedMetricSpecification"]["Metrics"]}
    assert metrics["backlog"]["MetricStat"]["Metric"]["MetricName"] == "Backlog"
    bucket = resources["Bucket"]["Properties"]
    rule = bucket["LifecycleConfiguration"]["Rules"][0]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert bucket["CorsConfiguration"]["CorsRules"][0]["ExposedHeaders"] == ["ETag"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    alarm = resources["WorkerOldestAgeAlarm"]["Properties"]
    assert alarm["MetricName"] == "OldestQueuedJobAge" and alarm["EvaluationPeriods"] == 2
    text = TEMPLATE.read_text()
    assert "docker/compose.api.yml" in text and "docker/compose.worker.yml" in text
    assert Path(REPO / "docs" / "deploy.md").read_text().count("aws cloudformation deploy") >= 1
