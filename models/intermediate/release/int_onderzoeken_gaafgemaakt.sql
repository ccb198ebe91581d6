{{ config(schema=release_schema()) }}
-- Diensten Onderzoek of the release, cleaned (G1, G2, G4, G5, G8) and linked to their casus.
{{ dienst_gaafgemaakt('ON', 'stg_loader__onderzoeken') }}
