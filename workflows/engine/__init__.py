"""The workflow engine core: plain Python (no Django), testable without a database.

Load and validate a workflow (`load_workflow`), validate run parameters (`validate_parameters`),
ask `decide` what to do next as steps finish, render templates (`render_value`) and outputs
(`apply_step_outputs`, `render_workflow_outputs`).
"""

from .conditions import Condition, parse_condition
from .durations import format_duration, parse_duration
from .errors import (
    ConditionEvaluationError,
    ConditionSyntaxError,
    ParameterError,
    Problem,
    StepOutputError,
    TemplateError,
    TemplateRenderError,
    TemplateSyntaxError,
    UnsafePatternError,
    WorkflowValidationError,
)
from .loader import load_workflow, load_workflows
from .model import ParameterSpec, RetryPolicy, StepDefinition, WorkflowDefinition
from .outputs import apply_step_outputs, render_workflow_outputs, render_workflow_variables
from .parameters import parse_parameter_specs, validate_parameters
from .planning import (
    TERMINAL_STATUSES,
    Decisions,
    StepState,
    decide,
    effective_dependencies,
    topological_order,
    validate_dag,
)
from .templating import make_context, normalize_go_style, render, render_value, template_references

__all__ = [
    "TERMINAL_STATUSES",
    "Condition",
    "ConditionEvaluationError",
    "ConditionSyntaxError",
    "Decisions",
    "ParameterError",
    "ParameterSpec",
    "Problem",
    "RetryPolicy",
    "StepDefinition",
    "StepOutputError",
    "StepState",
    "TemplateError",
    "TemplateRenderError",
    "TemplateSyntaxError",
    "UnsafePatternError",
    "WorkflowDefinition",
    "WorkflowValidationError",
    "apply_step_outputs",
    "decide",
    "effective_dependencies",
    "format_duration",
    "load_workflow",
    "load_workflows",
    "make_context",
    "normalize_go_style",
    "parse_condition",
    "parse_duration",
    "parse_parameter_specs",
    "render",
    "render_value",
    "render_workflow_outputs",
    "render_workflow_variables",
    "template_references",
    "topological_order",
    "validate_dag",
    "validate_parameters",
]
