"""A small users API: an ordinary Flask app that knows nothing about Lambda.

Modules:
    app         routes and error handling (``create_app``)
    validation  input rules shared by the API and the CSV import
    store       SQLite and DynamoDB storage behind one interface
    importer    CSV import for S3 ``ObjectCreated`` notifications
    aws         boto3 clients configured from the environment
"""
