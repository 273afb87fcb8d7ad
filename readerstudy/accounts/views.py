"""Coordinator pages for reader accounts: list, create, edit, deactivate / reactivate."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import selectors, services
from .decorators import coordinator_required
from .forms import ReaderCreateForm, ReaderEditForm


@coordinator_required
def reader_list(request):
    return render(request, "accounts/reader_list.html", {"readers": selectors.readers()})


@never_cache
@coordinator_required
def reader_create(request):
    form = ReaderCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        generated = not fields["password"]
        if generated:
            fields["password"] = services.initial_password()
        reader = services.create_reader(**fields)
        # Shown on this response only: the password is never stored in clear nor sent again.
        return render(
            request,
            "accounts/reader_created.html",
            {"reader": reader, "password": fields["password"] if generated else None},
        )
    return render(request, "accounts/reader_form.html", {"form": form, "creating": True})


@coordinator_required
def reader_edit(request, pk: int):
    reader = get_object_or_404(selectors.readers(), pk=pk)
    form = ReaderEditForm.for_reader(reader, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.update_reader(reader, **form.cleaned_data)
        messages.success(request, f"Reader {reader.username} saved.")
        return redirect("reader-list")
    return render(request, "accounts/reader_form.html", {"form": form, "reader": reader})


@coordinator_required
@require_POST
def reader_active(request, pk: int):
    reader = get_object_or_404(selectors.readers(), pk=pk)
    active = request.POST.get("active") == "1"
    services.set_reader_active(reader, active)
    state = "reactivated" if active else "deactivated (cannot sign in; their reads are kept)"
    messages.success(request, f"Reader {reader.username} {state}.")
    return redirect("reader-list")
