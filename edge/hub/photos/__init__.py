"""Guided photo capture at the exam table (issue #13): phone photos checked and filed.

``decode`` turns an untrusted upload into upright pixels within limits, ``check``
runs the conveyor's photographic standard on the profile's exam views,
``advice`` says what to do about each failure, ``filing`` builds the standard
package, ``service`` ties them to staging and the outbox, ``guide`` renders the
Photographic Standards Guide (page and PDF) from the same profile.
"""
