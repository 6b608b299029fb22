"""WTForms forms. The questionnaire form is built from the questionnaire document of a wave."""
