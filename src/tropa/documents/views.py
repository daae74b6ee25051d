"""A case's documents: upload, view (watermarked, never cached), read the MRZ."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import staff_required
from tropa.cases.http import case_unlocked_or_404
from tropa.documents import mrz, services
from tropa.documents.forms import MrzForm, UploadForm
from tropa.documents.models import Document, DocumentKind, Source
from tropa.intake.channels.web import services as webchat
from tropa.intake.services import conversation_find
from tropa.vault.session import keychain_for

WARNINGS = {
    "no_foreign_passport": gettext_lazy(
        "No foreign passport in this case: only routes on the internal passport are possible."
    ),
    "foreign_passport_expiring": gettext_lazy("The foreign passport expires on %(expiry)s."),
    "expired": gettext_lazy("A document expired on %(expiry)s."),
}


def _document(request: HttpRequest, document_id: int) -> Document:
    document = get_object_or_404(Document, pk=document_id)
    document.case = case_unlocked_or_404(request, document.case_id)
    return document


@staff_required
def case_documents_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_unlocked_or_404(request, case_id)
    documents = list(Document.objects.filter(case=case))
    for document in documents:
        document.case = case
    warnings = [
        WARNINGS[w.code] % {"expiry": w.expiry} if w.expiry else WARNINGS[w.code]
        for w in services.document_warnings(case)
    ]
    context = {
        "case": case,
        "documents": documents,
        "warnings": warnings,
        "upload_form": UploadForm(),
        "mrz_form": MrzForm(),
        "ocr": services.ocr_available(),
        "kinds": DocumentKind.choices,
    }
    return render(request, "documents/case.html", context)


@require_POST
@staff_required
def upload_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_unlocked_or_404(request, case_id)
    files = request.FILES  # parsing the body is what finds an upload too large
    if getattr(request, "upload_too_large", False):
        messages.error(request, services.REFUSALS["too_large"])
        return redirect("documents:case", case_id=case.pk)
    form = UploadForm(request.POST, files)
    if not form.is_valid():
        messages.error(request, _("Choose the kind of document and a photo."))
        return redirect("documents:case", case_id=case.pk)
    try:
        services.document_receive(
            case=case,
            data=form.cleaned_data["file"].read(),
            kind=form.cleaned_data["kind"],
            source=Source.STAFF,
            uploaded_by=request.user,
        )
    except services.Refused as error:
        messages.error(request, services.refusal_text(error))
    else:
        messages.success(request, _("Stored encrypted, without its metadata."))
    return redirect("documents:case", case_id=case.pk)


@staff_required
def image_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    try:
        image = services.document_view(document=document, keychain=keychain_for(request))
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(image, content_type="image/jpeg")
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store, private"
    return response


@require_POST
@staff_required
def kind_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    kind = request.POST.get("kind", "")
    if kind not in DocumentKind.values:
        raise Http404
    services.document_kind_set(document=document, keychain=keychain_for(request), kind=kind)
    return redirect("documents:case", case_id=document.case_id)


@require_POST
@staff_required
def mrz_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    keychain = keychain_for(request)
    form = MrzForm(request.POST)
    text = form.data.get("text", "") if form.is_valid() else ""
    if "ocr" in request.POST:
        text = services.mrz_from_image(document=document, keychain=keychain) or ""
        if not text:
            messages.error(request, _("No machine-readable lines found; type them in."))
            return redirect("documents:case", case_id=document.case_id)
    try:
        saved = services.document_facts_from_mrz(document=document, keychain=keychain, text=text)
    except mrz.MrzError as error:
        messages.error(request, _("Not a machine-readable zone: %(why)s") % {"why": error})
    else:
        if saved.duplicates:
            messages.error(
                request,
                _("The same document number is in another case: flagged for the coordinators."),
            )
        messages.success(
            request,
            _("Read: %(passed)d of %(total)d check digits pass, confidence %(confidence)s.")
            % {
                "passed": sum(saved.result.checks.values()),
                "total": len(saved.result.checks),
                "confidence": saved.result.confidence,
            },
        )
    return redirect("documents:case", case_id=document.case_id)


@require_POST
def chat_upload_view(request: HttpRequest) -> HttpResponse:
    """An applicant sends a photo from the web chat, once his request has a case."""
    chat_id = request.session.get(webchat.SESSION_CHAT)
    conversation = conversation_find(channel=webchat.CHANNEL, chat_id=chat_id) if chat_id else None
    if conversation is None or conversation.case is None:
        return redirect("webchat:chat")
    allowed = webchat.session_rate_ok(request.session)
    upload = request.FILES.get("file")
    if not allowed:
        request.session[webchat.SESSION_NOTICE] = _("Too many messages at once. Wait a minute.")
    elif getattr(request, "upload_too_large", False):
        request.session[webchat.SESSION_NOTICE] = str(services.REFUSALS["too_large"])
    elif upload is None:
        request.session[webchat.SESSION_NOTICE] = _("Choose a photo first.")
    else:
        kind = request.POST.get("kind", "other")
        try:
            if conversation.duress_at is None:  # a seized phone: answered, nothing stored
                services.document_receive(
                    case=conversation.case, data=upload.read(), kind=kind, source=Source.WEB
                )
        except services.Refused as error:
            request.session[webchat.SESSION_NOTICE] = services.refusal_text(error)
        else:
            # Stored as "other" when the form's kind is unknown; never echo the field back.
            label = DocumentKind(kind if kind in DocumentKind.values else DocumentKind.OTHER).label
            webchat.transcript_add(conversation, "you", f"[{label}]")
            webchat.transcript_add(
                conversation, "tropa", _("Photo received and stored safely. Thank you.")
            )
    return redirect("webchat:chat")
