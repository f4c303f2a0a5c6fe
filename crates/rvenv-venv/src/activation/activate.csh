# Activates the virtual environment at __VENV_COMMENT__ (written by rvenv).
# Use it with `source __VENV_COMMENT__/bin/activate.csh` from csh or tcsh; `deactivate` undoes it.

alias deactivate 'if ( $?_rvenv_saved_path ) setenv PATH "$_rvenv_saved_path"; unset _rvenv_saved_path; if ( $?_rvenv_saved_pythonhome ) setenv PYTHONHOME "$_rvenv_saved_pythonhome"; unset _rvenv_saved_pythonhome; if ( $?_rvenv_saved_prompt ) set prompt="$_rvenv_saved_prompt:q"; unset _rvenv_saved_prompt; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; rehash; test "\!:*" != "nondestructive" && unalias deactivate'

setenv VIRTUAL_ENV __VENV_CSH__
setenv VIRTUAL_ENV_PROMPT __PROMPT_CSH__

set _rvenv_saved_path="$PATH"
setenv PATH "$VIRTUAL_ENV/bin:$PATH"

if ( $?PYTHONHOME ) then
    set _rvenv_saved_pythonhome="$PYTHONHOME"
    unsetenv PYTHONHOME
endif

if ( ! $?VIRTUAL_ENV_DISABLE_PROMPT ) then
    if ( $?prompt ) then
        set _rvenv_saved_prompt="$prompt:q"
        set prompt="($VIRTUAL_ENV_PROMPT:q) $prompt:q"
    endif
endif

rehash
