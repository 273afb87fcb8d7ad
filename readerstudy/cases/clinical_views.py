"""Coordinator pages of clinical data: the list with its CSV upload and variable catalogue, and
each case's clinical form. Readers and statisticians get 403; readers never see these values."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required

from .clinical import catalogue, define_variable, import_clinical_csv, set_clinical
from .clinical_forms import ClinicalForm, ClinicalUploadForm, VariableForm
from .clinical_schema import value_text
from .errors import ClinicalError
from .selectors import clinical_rows, clinical_values, library_case


def _render_list(request, *, upload_form=None, variable_form=None, errors=(), status=200):
    variables = catalogue()
    rows = [
        {"case": row["case"], "values": [value_text(row.get(name)) for name in variables]}
        for row in clinical_rows()
    ]
    context = {
        "variables": list(variables.values()),
        "rows": rows,
        "upload_form": upload_form or ClinicalUploadForm(),
        "variable_form": variable_form or VariableForm(),
        "clinical_errors": errors,
    }
    return render(request, "cases/clinical_list.html", context, status=status)


@coordinator_required
def clinical_list(request):
    return _render_list(request)


@coordinator_required
@require_POST
def clinical_upload(request):
    form = ClinicalUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_list(request, upload_form=form, status=400)
    try:
        summary = import_clinical_csv(form.cleaned_data["file"])
    except ClinicalError as exc:
        return _render_list(request, upload_form=form, errors=exc.errors, status=400)
    messages.success(request, summary.message[0].upper() + summary.message[1:] + ".")
    return redirect("case-clinical")


@coordinator_required
@require_POST
def variable_create(request):
    form = VariableForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            define_variable(
                data["name"],
                data["kind"],
                data["options"].split("|"),
                label=data["label"],
                unit=data["unit"],
            )
        except ClinicalError as exc:
            for error in exc.errors:
                form.add_error(None, error)
        else:
            messages.success(request, f"Variable {data['name']!r} added.")
            return redirect("case-clinical")
    return _render_list(request, variable_form=form, status=400)


@coordinator_required
def case_clinical(request, code: str):
    case = library_case(code)
    if case is None:
        raise Http404("no such case")
    variables = catalogue()
    status = 200
    if request.method == "POST":
        form = ClinicalForm(request.POST, variables=variables)
        if form.is_valid():
            try:
                set_clinical(case, form.cleaned_data["texts"], source="case page")
            except ClinicalError as exc:  # the etiology/label check needs the case
                for error in exc.errors:
                    form.add_error(None, error)
            else:
                messages.success(request, f"Clinical data of {case.code} saved.")
                return redirect("case-clinical-detail", code=case.code)
        status = 400
    else:
        form = ClinicalForm(
            variables=variables, initial=ClinicalForm.initial_for(clinical_values(case))
        )
    return render(request, "cases/case_clinical.html", {"case": case, "form": form}, status=status)
