//! The CI examples users copy (`examples/`) hold together: each parses as YAML with the
//! structure its platform needs, its shards cover every seed once and are merged after, and
//! every `driftsync` command in it parses with the real command line, so a renamed or misspelt
//! flag fails here before it fails in a user's CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use driftsync_sim::cli::args::{Cli, Command, MergeArgs, ReportCommand, SweepArgs};
use serde::Deserialize;
use serde_yaml_ng::Value;

const WORKFLOW: &str = "examples/github-actions/driftsync-sweep.yml";
const SWEEP_JOB: &str = "examples/kubernetes/sweep-job.yaml";
const MERGE_JOB: &str = "examples/kubernetes/merge-job.yaml";
const DOCKERFILE: &str = "examples/kubernetes/Dockerfile";

/// The path the workflow runs the binary by: what `cargo build --release` leaves.
const RELEASE_BINARY: &str = "target/release/driftsync";

/// Goal: the workflow has one job per shard, numbered 1 to N, and none cancels the others.
#[test]
fn the_github_workflow_runs_one_job_per_shard_and_lets_every_shard_finish() {
    let workflow = github_workflow();
    let sweep = &workflow["jobs"]["sweep"];
    let shards = matrix_shards(sweep);
    assert!(shards.len() > 1, "a matrix of one shard shards nothing: {shards:?}");
    assert_eq!(shards, (1..=shards.len() as u64).collect::<Vec<_>>(), "shards are 1 to N");
    let fail_fast = &sweep["strategy"]["fail-fast"];
    assert_eq!(fail_fast, &Value::Bool(false), "a failing shard must not cancel the others");
}

/// Goal: every `driftsync` command of the workflow parses, the shards' `--shard K/N` cover
/// 1..N exactly, and the merge reads the folders the artifacts are downloaded to.
#[test]
fn the_github_workflow_parses_and_every_driftsync_command_in_it_parses_with_its_flags() {
    let workflow = github_workflow();
    let shards = matrix_shards(&workflow["jobs"]["sweep"]);
    let mut shards_seen = Vec::new();
    for &shard in &shards {
        let commands = github_commands(&workflow, "sweep", Some(shard), "driftsync");
        let sweeps: Vec<SweepArgs> =
            commands.iter().filter_map(|c| sweep_args(WORKFLOW, c)).collect();
        assert_eq!(sweeps.len(), 1, "shard {shard} runs one sweep: {commands:?}");
        let given = sweeps[0].shard.expect("each matrix job passes --shard");
        assert_eq!(given.count(), shards.len() as u64, "--shard counts the matrix's jobs");
        shards_seen.push(given.number());
        assert_scenarios_exist(WORKFLOW, &sweeps[0].range.scenarios);
    }
    assert_eq!(shards_seen, shards, "matrix job K runs shard K");

    let commands = github_commands(&workflow, "merge", None, "driftsync");
    let merges: Vec<MergeArgs> = commands.iter().filter_map(|c| merge_args(WORKFLOW, c)).collect();
    assert_eq!(merges.len(), 1, "the merge job merges once: {commands:?}");
    let download = step_using(&workflow["jobs"]["merge"], "actions/download-artifact@v4");
    let downloaded = format!("{}/{}/latest", text(&download["with"]["path"]), pattern(download));
    assert_eq!(merges[0].dirs, [PathBuf::from(downloaded)], "it merges what was downloaded");
}

/// Goal: each shard uploads the folder its sweep wrote, under a name of its own, after the
/// sweep and even when the sweep failed.
#[test]
fn every_github_shard_uploads_its_reports_even_when_its_sweep_failed() {
    let workflow = github_workflow();
    let sweep_job = &workflow["jobs"]["sweep"];
    let upload = step_using(sweep_job, "actions/upload-artifact@v4");
    assert_runs_after_failures(upload, "the shard's upload");
    let download = step_using(&workflow["jobs"]["merge"], "actions/download-artifact@v4");
    let downloaded_prefix = pattern(download).trim_end_matches('*').to_owned();
    let mut names = BTreeSet::new();
    for shard in matrix_shards(sweep_job) {
        let context = github_context(&workflow, sweep_job, upload, Some(shard));
        let path = expand_expressions(text(&upload["with"]["path"]), &context).unwrap();
        let commands = github_commands(&workflow, "sweep", Some(shard), "driftsync");
        let sweep = commands.iter().find_map(|c| sweep_args(WORKFLOW, c)).unwrap();
        assert_eq!(Path::new(&path), sweep.reports.reports_dir, "shard {shard} uploads its folder");
        let name = expand_expressions(text(&upload["with"]["name"]), &context).unwrap();
        assert!(name.starts_with(&downloaded_prefix), "the merge job downloads {name}");
        names.insert(name);
    }
    assert_eq!(names.len(), matrix_shards(sweep_job).len(), "artifact names are unique");
}

/// Goal: the merge job waits for every shard, runs when one failed, shares its report even
/// when seeds failed, and fails the run when a shard did.
#[test]
fn the_github_merge_job_waits_for_every_shard_and_fails_the_run_if_one_failed() {
    let workflow = github_workflow();
    let merge = &workflow["jobs"]["merge"];
    let needs: Vec<&str> = match &merge["needs"] {
        Value::Sequence(jobs) => jobs.iter().map(text).collect(),
        one => vec![text(one)],
    };
    assert_eq!(needs, ["sweep"], "the merge job needs the matrix");
    assert_runs_after_failures(merge, "the merge job");
    assert_runs_after_failures(step_using(merge, "actions/upload-artifact@v4"), "its upload");
    let gate = steps(merge)
        .iter()
        .find(|step| step["if"].as_str().is_some_and(|when| when.contains("needs.sweep.result")))
        .expect("a step looks at the shards' result");
    let script = text(&gate["run"]);
    assert!(script.trim_end().ends_with("exit 1"), "and fails the job: {script}");
}

/// Goal: every job that runs the binary builds it first, in release, from a real package.
#[test]
fn the_github_workflow_builds_the_binary_it_runs() {
    let workflow = github_workflow();
    for (job, shard) in [("sweep", Some(1)), ("merge", None)] {
        let builds = github_commands(&workflow, job, shard, "cargo");
        assert_eq!(builds.len(), 1, "job {job} builds once: {builds:?}");
        assert_builds_the_driftsync_binary(WORKFLOW, &builds[0]);
        let runs = github_commands(&workflow, job, shard, "driftsync");
        assert!(!runs.is_empty(), "job {job} runs driftsync");
        for run in runs {
            assert_eq!(run[0], RELEASE_BINARY, "job {job} runs the release build");
        }
    }
}

/// Goal: the sweep is an Indexed Job that tells the sweep its shard count, as Kubernetes does
/// not, and no shard is retried for a seed that failed.
#[test]
fn the_kubernetes_sweep_is_an_indexed_job_whose_total_matches_its_completions() {
    let documents = yaml_documents(SWEEP_JOB);
    let job = of_kind(&documents, "Job");
    assert_eq!(text(&job["spec"]["completionMode"]), "Indexed");
    let completions = job["spec"]["completions"].as_u64().expect("completions is a number");
    assert!(completions > 1, "one completion shards nothing");
    let variables = container_variables(job);
    let total = variables.get("JOB_COMPLETION_TOTAL").expect("the pod sets JOB_COMPLETION_TOTAL");
    assert_eq!(total, &completions.to_string(), "JOB_COMPLETION_TOTAL equals completions");
    assert_eq!(text(&job["spec"]["template"]["spec"]["restartPolicy"]), "Never");
    let rules = job["spec"]["podFailurePolicy"]["rules"].as_sequence().expect("rules");
    let no_retry = rules.iter().find(|rule| {
        rule["onExitCodes"]["values"].as_sequence().is_some_and(|codes| codes.contains(&1.into()))
    });
    assert_eq!(no_retry.map(|rule| text(&rule["action"])), Some("FailIndex"), "exit 1");
}

/// Goal: every shard writes to a folder of its own on one volume that all pods can write,
/// and the merge Job reads the folder of every index from that same volume.
#[test]
fn every_driftsync_command_in_the_kubernetes_jobs_parses_and_the_merge_reads_every_index() {
    let documents = yaml_documents(SWEEP_JOB);
    let claim = of_kind(&documents, "PersistentVolumeClaim");
    let modes: Vec<&str> =
        claim["spec"]["accessModes"].as_sequence().unwrap().iter().map(text).collect();
    assert!(modes.contains(&"ReadWriteMany"), "pods on several nodes write at once: {modes:?}");
    let job = of_kind(&documents, "Job");
    let mount = reports_mount(job, text(&claim["metadata"]["name"]));
    let completions = job["spec"]["completions"].as_u64().unwrap();
    let mut reports_dirs = Vec::new();
    for index in 0..completions {
        let command = container_command(job, Some(index));
        let sweep = sweep_args(SWEEP_JOB, &command).expect("the container runs a sweep");
        assert!(sweep.shard.is_none(), "the sweep reads its shard from JOB_COMPLETION_INDEX");
        assert!(sweep.reports.reports_dir.starts_with(&mount), "reports go to the volume");
        assert_scenarios_exist(SWEEP_JOB, &sweep.range.scenarios);
        reports_dirs.push(sweep.reports.reports_dir.join("latest"));
    }
    let distinct: BTreeSet<&PathBuf> = reports_dirs.iter().collect();
    assert_eq!(distinct.len(), reports_dirs.len(), "each index has a folder of its own");

    let documents = yaml_documents(MERGE_JOB);
    let merge_job = of_kind(&documents, "Job");
    assert_eq!(reports_mount(merge_job, text(&claim["metadata"]["name"])), mount);
    let merge = merge_args(MERGE_JOB, &container_command(merge_job, None)).expect("a merge");
    assert_eq!(merge.dirs, reports_dirs, "the merge names the folder of every index, in order");
    assert!(merge.reports.reports_dir.starts_with(&mount), "the merged report is kept");
}

/// Goal: the image the Dockerfile builds holds what the Jobs run, where they run it.
#[test]
fn the_kubernetes_image_holds_the_binary_and_the_scenarios_the_jobs_use() {
    let dockerfile = read(DOCKERFILE);
    let builds: Vec<CommandLine> = dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("RUN "))
        .flat_map(|script| shell_commands(script, "cargo", &Context::default()).unwrap())
        .collect();
    assert_eq!(builds.len(), 1, "the image builds once: {builds:?}");
    assert_builds_the_driftsync_binary(DOCKERFILE, &builds[0]);
    let documents = yaml_documents(SWEEP_JOB);
    let container = &of_kind(&documents, "Job")["spec"]["template"]["spec"]["containers"][0];
    let workdir = text(&container["workingDir"]);
    assert!(dockerfile.contains(&format!("\nWORKDIR {workdir}\n")), "WORKDIR {workdir}");
    assert!(dockerfile.contains(&format!(" {workdir}/scenarios/\n")), "scenarios in {workdir}");
    assert!(dockerfile.contains(" /usr/local/bin/driftsync\n"), "the binary on PATH");
    assert_eq!(container["command"][0], Value::from("driftsync"));
}

/// Goal: the checker has teeth: a misspelt flag fails it, so the tests above cannot pass by
/// accepting anything.
#[test]
fn the_command_checker_refuses_a_misspelt_flag() {
    let script = "target/release/driftsync sweep scenarios/ --seeds 2 --shards 1/4";
    let commands = shell_commands(script, "driftsync", &Context::default()).unwrap();
    assert_eq!(commands.len(), 1, "{commands:?}");
    let error = parse_driftsync("a script", &commands[0]).unwrap_err();
    assert!(error.contains("--shards"), "the error names the flag: {error}");
    let spelt_right =
        shell_commands(&script.replace("--shards", "--shard"), "driftsync", &Context::default());
    assert!(parse_driftsync("a script", &spelt_right.unwrap()[0]).is_ok());
}

/// Goal: the command finder reads a script as the shell would: it joins continued lines,
/// expands variables, stops at shell operators, and ignores commands that merely mention
/// `driftsync`; an expression or variable it has no value for is an error, never a guess.
#[test]
fn the_command_finder_joins_continued_lines_and_stops_at_shell_operators() {
    let mut context = Context::default();
    context.expressions.insert("matrix.shard".to_owned(), "3".to_owned());
    context.variables.insert("SEEDS".to_owned(), "20".to_owned());
    let script = "code=0\n\
                  echo driftsync sweep --frobnicate\n\
                  # driftsync sweep --frobnicate\n\
                  ./driftsync sweep scenarios/ --seeds \"$SEEDS\" \\\n  \
                  --shard ${{ matrix.shard }}/4 || code=$?\n";
    let commands = shell_commands(script, "driftsync", &context).unwrap();
    let words = ["./driftsync", "sweep", "scenarios/", "--seeds", "20", "--shard", "3/4"];
    assert_eq!(commands, [words.map(String::from).to_vec()]);
    let unknown_variable = shell_commands("driftsync sweep --seeds $N", "driftsync", &context);
    assert!(unknown_variable.unwrap_err().contains("$N"));
    let unknown_expression = shell_commands("driftsync ${{ env.X }}", "driftsync", &context);
    assert!(unknown_expression.unwrap_err().contains("env.X"));
}

fn github_workflow() -> Value {
    let documents = yaml_documents(WORKFLOW);
    assert_eq!(documents.len(), 1, "a workflow is one YAML document");
    let workflow = documents.into_iter().next().unwrap();
    assert!(workflow["on"].is_mapping(), "the workflow has triggers");
    assert!(workflow["jobs"]["sweep"].is_mapping(), "a `sweep` job");
    assert!(workflow["jobs"]["merge"].is_mapping(), "a `merge` job");
    workflow
}

/// The values of the sweep job's `matrix.shard`, as numbers.
fn matrix_shards(job: &Value) -> Vec<u64> {
    let shards = job["strategy"]["matrix"]["shard"].as_sequence().expect("a `shard` matrix");
    shards.iter().map(|shard| shard.as_u64().expect("shard numbers are numbers")).collect()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_sequence().expect("the job has steps")
}

/// The one step of `job` that uses `action`.
fn step_using<'a>(job: &'a Value, action: &str) -> &'a Value {
    the_one(steps(job), &format!("step that uses {action}"), |step| step["uses"] == action)
}

/// The `pattern` of a download step, which must name the shards' artifacts by a prefix.
fn pattern(download: &Value) -> &str {
    let pattern = text(&download["with"]["pattern"]);
    assert!(pattern.ends_with('*') && !pattern[..pattern.len() - 1].contains('*'), "{pattern}");
    pattern
}

/// A job or step runs after a failure, yet not after a cancel (`always()` would also do).
fn assert_runs_after_failures(job_or_step: &Value, what: &str) {
    let when = job_or_step["if"].as_str().unwrap_or_default();
    assert!(when.contains("!cancelled()") || when.contains("always()"), "{what} runs: `{when}`");
}

/// The commands for `program` in the `run:` steps of `job`, as matrix job `shard` runs them.
fn github_commands(
    workflow: &Value,
    job_name: &str,
    shard: Option<u64>,
    program: &str,
) -> Vec<CommandLine> {
    let job = &workflow["jobs"][job_name];
    let mut commands = Vec::new();
    for step in steps(job) {
        let Some(script) = step["run"].as_str() else { continue };
        let context = github_context(workflow, job, step, shard);
        let found = shell_commands(script, program, &context);
        commands.extend(found.unwrap_or_else(|error| panic!("{WORKFLOW}, {job_name}: {error}")));
    }
    commands
}

/// What GitHub and the shell substitute in a step: the matrix and strategy of matrix job
/// `shard`, the shards' result (as if one failed), and the `env` of the workflow, the job and
/// the step (the innermost wins).
fn github_context(workflow: &Value, job: &Value, step: &Value, shard: Option<u64>) -> Context {
    let mut context = Context::default();
    context.expressions.insert("needs.sweep.result".to_owned(), "failure".to_owned());
    if let Some(shard) = shard {
        let total = matrix_shards(job).len();
        context.expressions.insert("matrix.shard".to_owned(), shard.to_string());
        context.expressions.insert("strategy.job-total".to_owned(), total.to_string());
    }
    for scope in [workflow, job, step] {
        let Some(env) = scope["env"].as_mapping() else { continue };
        for (name, value) in env {
            let value = match value {
                Value::String(text) => expand_expressions(text, &context).unwrap(),
                other => scalar(other),
            };
            context.variables.insert(text(name).to_owned(), value);
        }
    }
    context
}

/// The one document of `kind` among `documents`.
fn of_kind<'a>(documents: &'a [Value], kind: &str) -> &'a Value {
    the_one(documents, kind, |document| document["kind"] == kind)
}

fn job_container(job: &Value) -> &Value {
    let containers = job["spec"]["template"]["spec"]["containers"].as_sequence().unwrap();
    assert_eq!(containers.len(), 1, "the Job runs one container");
    &containers[0]
}

/// The container's `env` values, by name.
fn container_variables(job: &Value) -> BTreeMap<String, String> {
    let env = job_container(job)["env"].as_sequence().map(Vec::as_slice).unwrap_or_default();
    env.iter().map(|entry| (text(&entry["name"]).to_owned(), scalar(&entry["value"]))).collect()
}

/// The container's `command` and `args` as pod `index` of an Indexed Job runs them (`None`
/// for a Job that is not indexed), with `$(VARIABLE)` expanded as Kubernetes expands it.
fn container_command(job: &Value, index: Option<u64>) -> CommandLine {
    let container = job_container(job);
    let mut variables = container_variables(job);
    if let Some(index) = index {
        variables.insert("JOB_COMPLETION_INDEX".to_owned(), index.to_string());
    }
    let parts = [&container["command"], &container["args"]];
    let words = parts.iter().flat_map(|part| part.as_sequence().unwrap()).map(|word| {
        kubernetes_expand(&scalar(word), &variables).unwrap_or_else(|error| panic!("{error}"))
    });
    words.collect()
}

/// Kubernetes' `$(NAME)` in `command` and `args`; an unknown name is an error here, where
/// Kubernetes would leave it as written.
fn kubernetes_expand(word: &str, variables: &BTreeMap<String, String>) -> Result<String, String> {
    substitute(word, ("$(", ")"), |name| {
        variables.get(name).cloned().ok_or_else(|| format!("no value for $({name}) in {word}"))
    })
}

/// Where the Job's container mounts the volume of `claim`.
fn reports_mount(job: &Value, claim: &str) -> PathBuf {
    let volumes = job["spec"]["template"]["spec"]["volumes"].as_sequence().unwrap();
    let volume = volumes
        .iter()
        .find(|volume| volume["persistentVolumeClaim"]["claimName"].as_str() == Some(claim))
        .unwrap_or_else(|| panic!("a volume of the claim {claim}"));
    let mounts = job_container(job)["volumeMounts"].as_sequence().unwrap();
    let mount = mounts.iter().find(|mount| mount["name"] == volume["name"]).expect("mounted");
    PathBuf::from(text(&mount["mountPath"]))
}

/// The words of one command line, its program first, as the program receives them.
type CommandLine = Vec<String>;

/// Values for what GitHub and the shell would substitute in a script.
#[derive(Debug, Default)]
struct Context {
    /// `${{ expression }}` to its value.
    expressions: BTreeMap<String, String>,
    /// Shell variables (`$NAME`, `${NAME}`) to their values.
    variables: BTreeMap<String, String>,
}

/// The commands of `script` that run `program` (by name or by a path ending in it). Handles
/// what the examples use: `${{ }}` expressions, `\` continuations, quotes, `$NAME` and
/// `${NAME}`, leading `NAME=value` assignments, comments, and `||`, `&&`, `;`, `|`, `&` and
/// redirections ending a command, each as a word of its own.
fn shell_commands(
    script: &str,
    program: &str,
    context: &Context,
) -> Result<Vec<CommandLine>, String> {
    let script = expand_expressions(script, context)?.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in script.lines() {
        let raw = raw_words(line);
        let mut words = raw.iter().skip_while(|word| is_assignment(word)).peekable();
        let runs_program = words.peek().is_some_and(|first| {
            first.as_str() == program || first.ends_with(&format!("/{program}"))
        });
        if !runs_program {
            continue;
        }
        let words = words
            .take_while(|word| !is_operator(word))
            .map(|word| unquote(word, &context.variables))
            .collect::<Result<_, _>>()?;
        commands.push(words);
    }
    Ok(commands)
}

/// Replaces every `${{ expression }}` with its value. `a || 'b'` with no value for `a` is `b`,
/// as on a push, where a manual run's `inputs` are empty.
fn expand_expressions(text: &str, context: &Context) -> Result<String, String> {
    substitute(text, ("${{", "}}"), |expression| {
        let fallback = expression.split_once("||").map(|(_, b)| b.trim().trim_matches('\''));
        let value = context.expressions.get(expression).map(String::as_str).or(fallback);
        let value = value.ok_or_else(|| format!("no sample value for ${{{{ {expression} }}}}"));
        value.map(str::to_owned)
    })
}

/// Replaces every `open NAME close` in `text` with the value of the trimmed `NAME`.
fn substitute(
    text: &str,
    (open, close): (&str, &str),
    value: impl Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut substituted = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let unclosed = || format!("an unclosed {open} in {text}");
        let length = rest[start..].find(close).ok_or_else(unclosed)?;
        substituted.push_str(&rest[..start]);
        substituted.push_str(&value(rest[start + open.len()..start + length].trim())?);
        rest = &rest[start + length + close.len()..];
    }
    substituted.push_str(rest);
    Ok(substituted)
}

/// The words of one shell line, quotes kept, up to a comment.
fn raw_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '#') if word.is_empty() => break,
            (None, c) if c.is_whitespace() => {
                words.extend(Some(std::mem::take(&mut word)).filter(|w| !w.is_empty()));
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
        word.push(c);
    }
    words.extend(Some(word).filter(|w| !w.is_empty()));
    words
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_operator(word: &str) -> bool {
    ["||", "&&", ";", "|", "&"].contains(&word)
        || word.starts_with(['>', '<'])
        || word.starts_with("2>")
}

/// A shell word without its quotes, with `$NAME` and `${NAME}` expanded outside single quotes.
fn unquote(word: &str, variables: &BTreeMap<String, String>) -> Result<String, String> {
    let mut unquoted = String::new();
    let mut quote: Option<char> = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None | Some('"'), '$') => {
                let braced = chars.next_if_eq(&'{').is_some();
                let mut name = String::new();
                while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    name.push(c);
                }
                if (braced && chars.next() != Some('}')) || name.is_empty() {
                    return Err(format!("a `$` the checker cannot expand in {word}"));
                }
                let value = variables
                    .get(&name)
                    .ok_or_else(|| format!("no value for ${name} in {word}"))?;
                unquoted.push_str(value);
            }
            (_, c) => unquoted.push(c),
        }
    }
    Ok(unquoted)
}

/// Parses a `driftsync` command line with the command's own definition.
fn parse_driftsync(source: &str, command: &CommandLine) -> Result<Cli, String> {
    Cli::try_parse_from(command)
        .map_err(|error| format!("{source}: `{}` does not parse: {error}", command.join(" ")))
}

/// The flags of a `driftsync sweep` command, or `None` for another subcommand.
fn sweep_args(source: &str, command: &CommandLine) -> Option<SweepArgs> {
    match parse_driftsync(source, command).unwrap_or_else(|error| panic!("{error}")).command {
        Command::Sweep(args) => Some(args),
        _ => None,
    }
}

/// The flags of a `driftsync report merge` command, or `None` for another subcommand.
fn merge_args(source: &str, command: &CommandLine) -> Option<MergeArgs> {
    match parse_driftsync(source, command).unwrap_or_else(|error| panic!("{error}")).command {
        Command::Report(ReportCommand::Merge(args)) => Some(args),
        _ => None,
    }
}

/// Every scenario path a sweep names exists in the workspace, where the workflow's checkout
/// and the image's `COPY` find it.
fn assert_scenarios_exist(source: &str, scenarios: &[PathBuf]) {
    for scenario in scenarios {
        let path = workspace_root().join(scenario);
        assert!(path.exists(), "{source} names a missing scenario {}", path.display());
    }
}

/// A `cargo build --release -p PACKAGE` whose package is a workspace member with the
/// `driftsync` binary.
fn assert_builds_the_driftsync_binary(source: &str, build: &CommandLine) {
    let words: Vec<&str> = build.iter().map(String::as_str).collect();
    assert_eq!(words.get(1), Some(&"build"), "{source}: {words:?}");
    assert!(words.contains(&"--release"), "{source}: a release build: {words:?}");
    let package = words
        .windows(2)
        .find(|pair| pair[0] == "-p" || pair[0] == "--package")
        .map(|pair| pair[1])
        .unwrap_or_else(|| panic!("{source}: the build names its package: {words:?}"));
    let binaries = workspace_binaries();
    let package_binaries = binaries.get(package).unwrap_or_else(|| panic!("{source}: {package}"));
    assert!(package_binaries.iter().any(|binary| binary == "driftsync"), "{source}: {package}");
}

/// Every workspace member's package name and binary names.
fn workspace_binaries() -> BTreeMap<String, Vec<String>> {
    let manifest = |dir: &Path| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()).unwrap()
    };
    let root = manifest(&workspace_root());
    let members = root["workspace"]["members"].as_array().expect("workspace members");
    let mut binaries = BTreeMap::new();
    for member in members {
        let package = manifest(&workspace_root().join(member.as_str().unwrap()));
        let name = package["package"]["name"].as_str().unwrap().to_owned();
        let bins = package.get("bin").and_then(|bins| bins.as_array());
        let names = bins.into_iter().flatten().filter_map(|bin| bin.get("name")?.as_str());
        binaries.insert(name, names.map(str::to_owned).collect());
    }
    binaries
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every document of a YAML file, each parsed on its own as YAML readers do.
fn yaml_documents(relative: &str) -> Vec<Value> {
    let text = read(relative);
    let documents = serde_yaml_ng::Deserializer::from_str(&text).map(Value::deserialize);
    let parsed = documents.collect::<Result<_, _>>();
    parsed.unwrap_or_else(|error| panic!("{relative} is not valid YAML: {error}"))
}

/// The one value of `values` that `is` picks; none or several fail the test.
fn the_one<'a>(values: &'a [Value], what: &str, is: impl Fn(&Value) -> bool) -> &'a Value {
    let mut found = values.iter().filter(|value| is(value));
    let value = found.next().unwrap_or_else(|| panic!("no {what}"));
    assert!(found.next().is_none(), "more than one {what}");
    value
}

/// A string value; anything else fails the test that expected one.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, found {value:?}"))
}

/// A scalar as the text a program would receive.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}
